//! `avatar completions` and `avatar man`: what a packager installs.

#![allow(clippy::unwrap_used)] // a failure is the test failing.

use std::process::Command;

/// Runs `avatar`; gives its exit code, stdout and stderr.
fn avatar(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args(args)
        .output()
        .expect("run avatar");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_name_every_subcommand_and_new_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, script, err) = avatar(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in [
            "prep",
            "upload",
            "delete",
            "completions",
            "man",
            // fish writes long flags as `-l dry-run`.
            "dry-run",
            "token-file",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let (code, _, err) = avatar(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn man_prints_roff_pages() {
    let (code, page, err) = avatar(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH avatar 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");

    let (code, page, err) = avatar(&["man", "upload"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH avatar-upload 1"), "{page}");
    // roff escapes hyphens.
    assert!(
        page.contains("dry\\-run") && page.contains("token\\-file"),
        "{page}"
    );

    let (code, _, err) = avatar(&["man", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("no subcommand \"nonsense\""), "{err}");
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let (code, out, err) = avatar(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "avatar-completions.1",
            "avatar-delete.1",
            "avatar-man.1",
            "avatar-prep.1",
            "avatar-upload.1",
            "avatar.1"
        ]
    );
    let prep = std::fs::read_to_string(dir.join("avatar-prep.1")).unwrap();
    assert!(prep.contains("contact\\-sheet"), "{prep}");
}
