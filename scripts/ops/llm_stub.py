#!/usr/bin/env python3
"""Provider stubs for the Prometheus end-to-end check: an OpenAI-compatible server and a
Tushare-shaped one, so research runs and sync jobs exercise the real gateway and adapters (and
their metrics) without reaching the internet.

- POST /v1/chat/completions answers a decision rationale for the portfolio manager's prompt and
  an analyst view for anything else, with token usage. The first call answers 500, which the
  gateway retries: an error series exists.
- POST /tushare answers `trade_cal` with three days. The first call answers 500, which the
  adapter retries.

Usage: llm_stub.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VIEW = {"signal": "bullish", "confidence": 60, "reasoning": "close above sma_200 (stub)"}
RATIONALE = {"rationale": "The analysts' views agree (stub).", "risk_warnings": []}


SEEN = set()


def first_time(kind):
    """True once per kind: that call fails with 500."""
    if kind in SEEN:
        return False
    SEEN.add(kind)
    return True


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode("utf-8", "replace")
        if self.path.endswith("/chat/completions"):
            if first_time("llm"):
                return self.fail()
            content = RATIONALE if "portfolio manager" in body else VIEW
            answer = {
                "id": "stub", "object": "chat.completion", "created": 1, "model": "stub",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(content)},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
            }
        elif self.path.rstrip("/").endswith("/tushare"):
            if first_time("tushare"):
                return self.fail()
            request = json.loads(body or "{}")
            if request.get("api_name") != "trade_cal":
                answer = {"code": 40101, "msg": "the stub only knows trade_cal", "data": None}
            else:
                exchange = request.get("params", {}).get("exchange", "SSE")
                answer = {"code": 0, "msg": "", "data": {
                    "fields": ["exchange", "cal_date", "is_open", "pretrade_date"],
                    "items": [[exchange, "20240102", 1, "20231229"], [exchange, "20240103", 1, "20240102"],
                              [exchange, "20240106", 0, "20240105"]],
                }}
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send(200, json.dumps(answer).encode())

    def fail(self):
        self.send(500, b'{"error": "stub: first call fails"}')

    def send(self, status, answer):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
