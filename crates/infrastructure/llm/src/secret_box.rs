//! The `SecretBox` port with AES-256-GCM: provider API keys are stored sealed, never in clear.
//!
//! Sealed layout: version byte `1` ‖ 12-byte random nonce ‖ ciphertext with its 16-byte tag.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use stockpilot_application::ports::SecretBox;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// Seals secrets with one 256-bit key (the configured encryption key).
pub struct AesGcmBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for AesGcmBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmBox { key: [redacted] }")
    }
}

impl AesGcmBox {
    /// A box over a 32-byte key given as 64 hex characters or as base64 (44 characters with
    /// padding, standard or URL-safe alphabet), e.g. the output of `openssl rand -base64 32`.
    /// Passphrases are refused rather than stretched: a weak key must not pass silently.
    ///
    /// # Errors
    /// A message naming the accepted forms when `text` is neither.
    pub fn from_key_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = decode_hex(text)
            .or_else(|| STANDARD.decode(text).ok())
            .or_else(|| URL_SAFE.decode(text).ok())
            .filter(|b| b.len() == KEY_LEN)
            .ok_or_else(|| {
                format!(
                    "the encryption key must be 32 random bytes written as 64 hex characters or 44 base64 characters (generate one with `openssl rand -base64 32`); the given key has {} characters and is neither",
                    text.chars().count()
                )
            })?;
        let cipher = Aes256Gcm::new_from_slice(&bytes)
            .map_err(|_| "the encryption key must be exactly 32 bytes".to_owned())?;
        Ok(Self { cipher })
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != KEY_LEN * 2 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

impl SecretBox for AesGcmBox {
    fn seal(&self, plaintext: &str) -> Result<Vec<u8>, String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| "could not seal the secret".to_owned())?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    fn open(&self, sealed: &[u8]) -> Result<String, String> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err("the sealed secret is empty".into());
        };
        if version != VERSION {
            return Err(format!(
                "the sealed secret has unknown format version {version} (expected {VERSION})"
            ));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err("the sealed secret is truncated".into());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| "the sealed secret is truncated".to_owned())?;
        // GCM cannot tell a wrong key from tampered bytes: both fail the tag check.
        let plaintext = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| {
                "could not open the sealed secret: it was sealed with a different encryption key, or it is corrupt".to_owned()
            })?;
        String::from_utf8(plaintext).map_err(|_| "the opened secret is not UTF-8 text".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B64_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn round_trips_and_hex_and_base64_forms_of_one_key_are_the_same_key() {
        let hex = AesGcmBox::from_key_text(HEX_KEY).unwrap();
        let b64 = AesGcmBox::from_key_text(B64_KEY).unwrap();
        let sealed = hex.seal("sk-live-123 ✓").unwrap();
        assert_eq!(sealed[0], 1);
        assert_eq!(sealed.len(), 1 + 12 + "sk-live-123 ✓".len() + 16);
        assert_eq!(b64.open(&sealed).unwrap(), "sk-live-123 ✓");
    }

    #[test]
    fn two_seals_of_one_text_use_different_nonces() {
        let b = AesGcmBox::from_key_text(HEX_KEY).unwrap();
        let (x, y) = (b.seal("same").unwrap(), b.seal("same").unwrap());
        assert_ne!(x[1..13], y[1..13]);
        assert_ne!(x, y);
    }

    #[test]
    fn tampered_data_is_refused() {
        let b = AesGcmBox::from_key_text(HEX_KEY).unwrap();
        let mut sealed = b.seal("secret").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 0x01;
        assert!(b.open(&sealed).unwrap_err().contains("corrupt"));
        assert!(b.open(&sealed[..10]).unwrap_err().contains("truncated"));
        assert!(b.open(&[]).unwrap_err().contains("empty"));
        let mut v2 = b.seal("secret").unwrap();
        v2[0] = 2;
        assert!(b.open(&v2).unwrap_err().contains("version 2"));
    }

    #[test]
    fn data_sealed_with_another_key_is_refused_by_name() {
        let one = AesGcmBox::from_key_text(HEX_KEY).unwrap();
        let other = AesGcmBox::from_key_text(&"ab".repeat(32)).unwrap();
        let err = other.open(&one.seal("secret").unwrap()).unwrap_err();
        assert!(
            err.contains("sealed with a different encryption key"),
            "{err}"
        );
    }

    #[test]
    fn keys_that_are_not_32_bytes_in_hex_or_base64_are_rejected_with_the_accepted_forms() {
        for bad in [
            "correct horse battery staple",
            "",
            "abcd",
            &"zz".repeat(32),
            "AAEC",
        ] {
            let err = AesGcmBox::from_key_text(bad).unwrap_err();
            assert!(err.contains("64 hex characters or 44 base64"), "{err}");
        }
        // 16 bytes of valid base64 is still the wrong size.
        assert!(AesGcmBox::from_key_text("AAECAwQFBgcICQoLDA0ODw==").is_err());
        assert_eq!(
            format!("{:?}", AesGcmBox::from_key_text(HEX_KEY).unwrap()),
            "AesGcmBox { key: [redacted] }"
        );
    }
}
