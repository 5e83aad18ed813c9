//! Files on disk: the folder walk, output names, atomic writes and what a resumed run keeps.
//! Imports nothing else from this crate.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One input file and where its output goes (without extension).
#[derive(Debug)]
pub(crate) struct Job {
    /// The input file.
    pub(crate) input: PathBuf,
    /// Output path without extension, unique among all jobs.
    pub(crate) out_stem: PathBuf,
}

/// Lists the input files with their paths relative to the output folder: files as given,
/// folders recursively in name order, skipping hidden entries and the output folder itself.
pub(crate) fn discover(inputs: &[PathBuf], out: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let out_abs = std::fs::canonicalize(out).ok();
    let mut found = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).with_context(|| format!("{}", input.display()))?;
        if meta.is_dir() {
            walk(input, Path::new(""), out_abs.as_deref(), &mut found)?;
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("image"));
            found.push((input.clone(), name));
        }
    }
    Ok(found)
}

fn walk(
    dir: &Path,
    rel: &Path,
    skip: Option<&Path>,
    found: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<()> {
    if let (Some(skip), Ok(abs)) = (skip, std::fs::canonicalize(dir)) {
        if abs == skip {
            return Ok(());
        }
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("{}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&path, &rel.join(&name), skip, found)?;
        } else if ty.is_file() || (ty.is_symlink() && path.is_file()) {
            found.push((path, rel.join(&name)));
        }
    }
    Ok(())
}

/// Gives every input a unique output stem: `a.jpg` and `a.png` in one folder become `a`
/// and `a-2`. Comparison ignores case, for case-insensitive file systems.
pub(crate) fn plan_outputs(found: Vec<(PathBuf, PathBuf)>, out: &Path) -> Vec<Job> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut jobs = Vec::with_capacity(found.len());
    for (input, rel) in found {
        let stem = rel.with_extension("");
        let mut candidate = stem.clone();
        let mut n = 1;
        while !taken.insert(candidate.to_string_lossy().to_lowercase()) {
            n += 1;
            let file = stem
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            candidate = stem.with_file_name(format!("{file}-{n}"));
        }
        jobs.push(Job {
            input,
            out_stem: out.join(candidate),
        });
    }
    jobs
}

/// The prefix of our temporary files: `.avatar-tmp-<name>.<random>.tmp`.
const TMP_PREFIX: &str = ".avatar-tmp-";
/// Their suffix.
const TMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (tempfile, with
/// the usual permissions rather than tempfile's private 0600), synced, then renamed over
/// `path`. A reader never sees a partial file under the final name; on failure the
/// temporary file is removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!("{TMP_PREFIX}{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // As `File::create`: 0666 less the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Removes temporary files a killed run left behind (only ours, by their prefix and suffix).
pub(crate) fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        match e.file_type() {
            Ok(t) if t.is_dir() => remove_stale_temps(&path),
            Ok(t) if t.is_file() && name.starts_with(TMP_PREFIX) && name.ends_with(TMP_SUFFIX) => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
}

/// An existing output for `stem` at least as new as `input`, if there is one (resume).
pub(crate) fn existing_output(stem: &Path, input: &Path) -> Option<PathBuf> {
    let input_time = std::fs::metadata(input).and_then(|m| m.modified()).ok()?;
    ["jpg", "png", "gif"].iter().find_map(|ext| {
        let p = stem.with_extension(ext);
        let t = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
        (t >= input_time).then_some(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_stem_gets_a_suffix() {
        let found = vec![
            (PathBuf::from("in/a.jpg"), PathBuf::from("a.jpg")),
            (PathBuf::from("in/A.png"), PathBuf::from("A.png")),
            (PathBuf::from("in/b/a.jpg"), PathBuf::from("b/a.jpg")),
            (PathBuf::from("x/a.gif"), PathBuf::from("a.gif")),
        ];
        let jobs = plan_outputs(found, Path::new("out"));
        let stems: Vec<_> = jobs.iter().map(|j| j.out_stem.clone()).collect();
        assert_eq!(
            stems,
            vec![
                PathBuf::from("out/a"),
                PathBuf::from("out/A-2"),
                PathBuf::from("out/b/a"),
                PathBuf::from("out/a-3"),
            ]
        );
    }

    #[test]
    fn atomic_write_replaces_leaves_no_temp_and_keeps_usual_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/a.jpg");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<String> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.jpg"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::File::create(&plain).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), mode(&plain), "as File::create would make it");
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: the rename fails, and the temporary file goes away.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["taken"]);
    }

    #[test]
    fn stale_temps_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        for name in [
            ".avatar-tmp-a.jpg.4242.tmp",
            "d/.avatar-tmp-b.png.x1.tmp",
            "a.jpg",
            ".tmp",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_temps(dir.path());
        assert!(dir.path().join("a.jpg").exists());
        assert!(dir.path().join(".tmp").exists());
        assert!(!dir.path().join(".avatar-tmp-a.jpg.4242.tmp").exists());
        assert!(!dir.path().join("d/.avatar-tmp-b.png.x1.tmp").exists());
    }
}
