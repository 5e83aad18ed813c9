//! Slack's JSON envelope: `{ok, error, warning, needed, provided, response_metadata, profile}`.

use serde::Deserialize;

use crate::error::{SlackErrorCode, UploadError};

/// The user's profile images after `users.setPhoto`, as Slack returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Profile {
    /// Hash that changes with every new photo.
    pub avatar_hash: Option<String>,
    /// URL of the 24 px image.
    pub image_24: Option<String>,
    /// URL of the 32 px image.
    pub image_32: Option<String>,
    /// URL of the 48 px image.
    pub image_48: Option<String>,
    /// URL of the 72 px image.
    pub image_72: Option<String>,
    /// URL of the 192 px image.
    pub image_192: Option<String>,
    /// URL of the 512 px image.
    pub image_512: Option<String>,
    /// URL of the 1024 px image.
    pub image_1024: Option<String>,
    /// URL of the image as uploaded.
    pub image_original: Option<String>,
    /// Whether the user has a custom image.
    pub is_custom_image: Option<bool>,
}

/// A successful `users.setPhoto`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetPhotoResponse {
    /// The new profile images (absent if Slack sent none).
    pub profile: Option<Profile>,
    /// Warnings Slack attached (`warning` and `response_metadata.warnings`).
    pub warnings: Vec<String>,
    /// Requests sent, retries included (1 when the first one succeeded).
    pub attempts: u32,
}

/// A successful `users.deletePhoto`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletePhotoResponse {
    /// Warnings Slack attached.
    pub warnings: Vec<String>,
    /// Requests sent, retries included.
    pub attempts: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warning: Option<String>,
    #[serde(default)]
    needed: Option<String>,
    #[serde(default)]
    provided: Option<String>,
    #[serde(default)]
    response_metadata: Option<Metadata>,
    #[serde(default)]
    pub(crate) profile: Option<Profile>,
}

impl Envelope {
    /// Parses the body of an HTTP 200 answer; `ok: false` becomes [`UploadError::Slack`].
    pub(crate) fn parse(body: &[u8]) -> Result<Envelope, UploadError> {
        let env: Envelope =
            serde_json::from_slice(body).map_err(|e| UploadError::invalid_response(body, e))?;
        if env.ok {
            return Ok(env);
        }
        let warnings = env.warnings();
        Err(UploadError::Slack {
            code: SlackErrorCode::parse(env.error.as_deref().unwrap_or("unknown_error")),
            needed: env.needed,
            provided: env.provided,
            warnings,
        })
    }

    /// `warning` (comma-separated) and `response_metadata.warnings`, without duplicates.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let listed = self
            .warning
            .iter()
            .flat_map(|w| w.split(','))
            .map(str::trim);
        let meta = self
            .response_metadata
            .iter()
            .flat_map(|m| m.warnings.iter().map(String::as_str));
        for w in listed.chain(meta) {
            if !w.is_empty() && !out.iter().any(|o| o == w) {
                out.push(w.to_owned());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_with_profile_and_warnings() {
        let env = Envelope::parse(
            br#"{"ok":true,"warning":"superfluous_charset,other","response_metadata":{"warnings":["superfluous_charset"]},"profile":{"avatar_hash":"ab12","image_512":"https://x/512.png","unknown":1}}"#,
        )
        .unwrap();
        assert_eq!(env.warnings(), vec!["superfluous_charset", "other"]);
        assert_eq!(env.profile.unwrap().avatar_hash.as_deref(), Some("ab12"));
    }

    #[test]
    fn error_with_scopes() {
        let e = Envelope::parse(br#"{"ok":false,"error":"missing_scope","needed":"users.profile:write","provided":"users:read"}"#)
            .unwrap_err();
        match e {
            UploadError::Slack {
                code,
                needed,
                provided,
                ..
            } => {
                assert_eq!(code, SlackErrorCode::MissingScope);
                assert_eq!(needed.as_deref(), Some("users.profile:write"));
                assert_eq!(provided.as_deref(), Some("users:read"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Envelope::parse(b"<html>oops</html>"),
            Err(UploadError::InvalidResponse { .. })
        ));
    }
}
