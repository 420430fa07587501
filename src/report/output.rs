//! Report files that are whole or absent: each is written to a temporary
//! file beside its destination and renamed into place once complete, so a
//! run that fails before producing it, or dies while writing it, leaves
//! whatever was at the destination untouched. A destination that is not a
//! regular file (`/dev/null`, `/dev/full`, a pipe) cannot be renamed into
//! and is written in place.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// An output file being written. Dropped without [`OutputFile::commit`],
/// it removes its temporary file and leaves the destination as it was.
#[derive(Debug)]
pub struct OutputFile {
    /// Where the file ends up, as the user named it.
    dest: PathBuf,
    /// The file renamed over: `dest`, or the file it links to.
    target: PathBuf,
    /// The temporary file beside the destination; `None` when the
    /// destination is written in place (not a regular file).
    temp: Option<PathBuf>,
    file: File,
}

impl OutputFile {
    /// Opens the temporary file beside `dest` (or `dest` itself when it is
    /// a device or a pipe). Done before a run, so a folder that cannot be
    /// written is found before anything is sent.
    pub fn create(dest: &Path) -> io::Result<OutputFile> {
        // A link is followed, so the file it names is replaced, not the link.
        let target = match fs::symlink_metadata(dest) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(dest)?,
            _ => dest.to_path_buf(),
        };
        let existing = fs::metadata(&target).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            // A folder fails here with the system's own words.
            let file = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&target)?;
            return Ok(OutputFile {
                dest: dest.to_path_buf(),
                target,
                temp: None,
                file,
            });
        }
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        let out = OutputFile {
            dest: dest.to_path_buf(),
            target,
            temp: Some(temp),
            file,
        };
        // The replacement keeps the permissions of the file it replaces.
        if let (Some(m), Some(temp)) = (existing, &out.temp) {
            fs::set_permissions(temp, m.permissions())?;
        }
        Ok(out)
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// The open file to write into.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Writes `write`'s output through a buffer and puts the file in place;
    /// on any failure the destination is left as it was.
    pub fn write_whole(
        mut self,
        write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let written = {
            let mut buffered = io::BufWriter::new(self.file());
            write(&mut buffered).and_then(|()| io::Write::flush(&mut buffered))
        };
        written.and_then(|()| self.commit())
    }

    /// Puts the written file in place: synced, then renamed over the
    /// destination in one step.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let placed = self
            .file
            .sync_all()
            .and_then(|()| fs::rename(&temp, &self.target));
        if placed.is_err() {
            let _ = fs::remove_file(&temp);
        }
        placed
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mcload-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_committed_file_replaces_the_old_one_and_leaves_no_temporary_file() {
        let dir = dir("commit");
        let dest = dir.join("r.json");
        fs::write(&dest, "old").unwrap();
        let mut out = OutputFile::create(&dest).unwrap();
        out.file().write_all(b"new").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"old", "untouched until commit");
        out.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.json"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_never_committed_leaves_the_destination_as_it_was() {
        let dir = dir("drop");
        let dest = dir.join("r.json");
        fs::write(&dest, "old").unwrap();
        let mut out = OutputFile::create(&dest).unwrap();
        out.file().write_all(b"half").unwrap();
        drop(out);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        let fresh = dir.join("new.json");
        drop(OutputFile::create(&fresh).unwrap());
        assert!(!fresh.exists(), "nothing appears where nothing was");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_device_is_written_in_place_and_a_missing_folder_is_refused() {
        let mut null = OutputFile::create(Path::new("/dev/null")).unwrap();
        null.file().write_all(b"x").unwrap();
        null.commit().unwrap();
        assert!(OutputFile::create(Path::new("/nonexistent-dir/r.json")).is_err());
    }
}
