//! [`Token`]: a Slack user token that never shows itself.

use secrecy::{ExposeSecret, SecretString};

use crate::error::UploadError;

/// A Slack user token. `Debug` shows `Token([REDACTED])`; there is no `Display`, and the
/// value is only read to build the `Authorization` header.
///
/// [`Token::new`] checks the token's shape without any request, so a caller can validate a
/// batch of tokens up front (the `avatar` CLI's `--dry-run` does).
#[derive(Clone)]
pub struct Token(SecretString);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

impl Token {
    /// Checks the token's shape. Empty tokens, tokens with spaces or control characters,
    /// bot (`xoxb-`) and app-level (`xapp-`) tokens are refused: only user tokens (`xoxp-`)
    /// may change a profile photo, so sending one would only earn `not_allowed_token_type`.
    /// Surrounding whitespace (a file's final newline) is removed.
    pub fn new(token: impl Into<String>) -> Result<Token, UploadError> {
        let token: String = token.into();
        let t = token.trim();
        let reason = if t.is_empty() {
            Some("the token is empty")
        } else if t.starts_with("xoxb-") {
            Some("a bot token (xoxb-) cannot set profile photos: use a user token (xoxp-) with users.profile:write")
        } else if t.starts_with("xapp-") {
            Some("an app-level token (xapp-) cannot call Web API methods: use a user token (xoxp-)")
        } else if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("the token contains spaces or control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(UploadError::InvalidToken { reason }),
            None => Ok(Token(SecretString::from(t.to_owned()))),
        }
    }

    /// The secret, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_and_never_printed() {
        let t = Token::new("xoxp-123-secret\n").unwrap();
        assert_eq!(format!("{t:?}"), "Token([REDACTED])");
        assert_eq!(
            t.expose(),
            "xoxp-123-secret",
            "the final newline is trimmed"
        );
        for bad in ["", "  ", "xoxb-1-2", "xapp-1-2", "xoxp-1 2", "xoxp-1\u{7}2"] {
            let err = Token::new(bad).unwrap_err();
            assert!(matches!(err, UploadError::InvalidToken { .. }), "{bad:?}");
        }
    }
}
