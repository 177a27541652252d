#!/usr/bin/env python3
"""An OpenAI-compatible chat-completions stub for the Prometheus end-to-end check.

POST /v1/chat/completions answers a decision rationale for the portfolio manager's prompt and
an analyst view for anything else, with token usage, so a research run exercises the LLM
gateway and its metrics without a real model. Usage: llm_stub.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VIEW = {"signal": "bullish", "confidence": 60, "reasoning": "close above sma_200 (stub)"}
RATIONALE = {"rationale": "The analysts' views agree (stub).", "risk_warnings": []}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode("utf-8", "replace")
        if not self.path.endswith("/chat/completions"):
            self.send_response(404)
            self.end_headers()
            return
        content = RATIONALE if "portfolio manager" in body else VIEW
        answer = json.dumps({
            "id": "stub", "object": "chat.completion", "created": 1, "model": "stub",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(content)},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
