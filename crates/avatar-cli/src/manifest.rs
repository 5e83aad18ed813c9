//! `avatar upload --manifest`: the CSV rows and the journal of completed rows. Imports
//! nothing else from this crate.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// One manifest row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// 1-based line number in the manifest (the journal's key, with the image).
    pub(crate) line: usize,
    /// The image, relative to the manifest's folder.
    pub(crate) image: PathBuf,
    /// The image as written in the manifest (used in the journal and messages).
    pub(crate) image_text: String,
    /// Where the row's token is.
    pub(crate) token: TokenRef,
}

/// A row's token: written in the manifest, or the name of an environment variable.
#[derive(Clone)]
pub(crate) enum TokenRef {
    /// The token itself.
    Literal(String),
    /// `env:NAME`: the token is in this environment variable.
    Env(String),
}

impl std::fmt::Debug for TokenRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRef::Literal(_) => f.write_str("Literal([REDACTED])"),
            TokenRef::Env(name) => f.debug_tuple("Env").field(name).finish(),
        }
    }
}

/// A row's `env:NAME` token whose variable is not set.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is not set")]
pub(crate) struct MissingEnv {
    /// The variable's name.
    pub(crate) name: String,
}

impl TokenRef {
    /// The token text (not yet checked).
    pub(crate) fn resolve(&self) -> Result<String, MissingEnv> {
        match self {
            TokenRef::Literal(t) => Ok(t.clone()),
            TokenRef::Env(name) => match std::env::var(name) {
                Ok(t) if !t.trim().is_empty() => Ok(t),
                _ => Err(MissingEnv { name: name.clone() }),
            },
        }
    }
}

/// Reads the manifest's rows; a blank line is skipped, a row without two fields is an error.
pub(crate) fn read_manifest(path: &Path) -> Result<Vec<Row>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{}", path.display()))?;
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        let line = rec.position().map_or(i + 1, |p| p.line() as usize);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let (Some(image), Some(token)) = (rec.get(0), rec.get(1)) else {
            bail!("{}: line {line}: expected `image,token`", path.display());
        };
        if i == 0 && image.eq_ignore_ascii_case("image") && token.eq_ignore_ascii_case("token") {
            continue;
        }
        let token = match token.strip_prefix("env:") {
            Some(name) => TokenRef::Env(name.to_owned()),
            None => TokenRef::Literal(token.to_owned()),
        };
        rows.push(Row {
            line,
            image: base.join(image),
            image_text: image.to_owned(),
            token,
        });
    }
    Ok(rows)
}

/// How a journaled row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum JournalStatus {
    /// Slack accepted the photo.
    Ok,
    /// The row failed; a re-run tries it again.
    Error,
}

/// One journal record (JSON Lines). Never holds a token.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct JournalEntry {
    pub(crate) line: usize,
    pub(crate) image: String,
    pub(crate) status: JournalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// Rows (line, image) the journal lists as uploaded. A torn last line (a crash mid-write)
/// is ignored; a missing journal lists nothing.
pub(crate) fn read_journal(path: &Path) -> Result<HashSet<(usize, String)>> {
    let mut done = HashSet::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.with_context(|| format!("{}", path.display()))?;
        if let Ok(e) = serde_json::from_str::<JournalEntry>(&line) {
            if e.status == JournalStatus::Ok {
                done.insert((e.line, e.image));
            }
        }
    }
    Ok(done)
}

/// The journal, open for appending.
pub(crate) struct Journal {
    file: std::fs::File,
}

impl Journal {
    /// Opens (or creates) the journal for appending.
    pub(crate) fn open(path: &Path) -> Result<Journal> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}", path.display()))?;
        Ok(Journal { file })
    }

    /// Appends one record and waits until it is on disk.
    pub(crate) fn record(&mut self, entry: &JournalEntry) -> Result<()> {
        let mut line = serde_json::to_string(entry)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_header_blank_lines_and_env_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("team.csv");
        std::fs::write(
            &path,
            "image,token\na.jpg, xoxp-1\n\nsub/b.png,env:B_TOKEN\n",
        )
        .unwrap();
        let rows = read_manifest(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].image_text.as_str()), (2, "a.jpg"));
        assert_eq!(rows[1].image, dir.path().join("sub/b.png"));
        assert!(matches!(&rows[1].token, TokenRef::Env(n) if n == "B_TOKEN"));
        assert_eq!(format!("{:?}", rows[0].token), "Literal([REDACTED])");
        std::fs::write(&path, "a.jpg\n").unwrap();
        assert!(read_manifest(&path).is_err());
    }

    #[test]
    fn journal_lists_ok_rows_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut j = Journal::open(&path).unwrap();
        for (line, status) in [(2, JournalStatus::Ok), (3, JournalStatus::Error)] {
            j.record(&JournalEntry {
                line,
                image: format!("{line}.jpg"),
                status,
                avatar_hash: None,
                error: None,
            })
            .unwrap();
        }
        drop(j);
        let mut text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""status":"ok""#) && text.contains(r#""status":"error""#));
        text.push_str(r#"{"line":4,"image":"4.jpg","sta"#);
        std::fs::write(&path, text).unwrap();
        let done = read_journal(&path).unwrap();
        assert_eq!(done, HashSet::from([(2, "2.jpg".to_owned())]));
    }
}
