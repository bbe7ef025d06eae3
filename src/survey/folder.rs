//! What a survey folder must hold and how it is read: the files every locale
//! needs, the optional emails' files, and a bounded walk of the folder (or of the
//! copy shipped in the binary). It does not parse or render the files.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Locale, SurveyKind, CHECKLIST_FILE};

/// Files every locale folder of a survey must have.
pub const LOCALE_FILES: [&str; 15] = [
    "invitation.subject.hbs",
    "invitation.txt.hbs",
    "invitation.html.hbs",
    "reminder.subject.hbs",
    "reminder.txt.hbs",
    "reminder.html.hbs",
    "complaint.subject.hbs",
    "complaint.txt.hbs",
    "complaint.html.hbs",
    "form.html.hbs",
    "thanks.html.hbs",
    "closed.html.hbs",
    "unsubscribe.html.hbs",
    "unsubscribed.html.hbs",
    "messages.toml",
];

/// The follow-up to a customer whose case was resolved (`cases`): a locale folder
/// has all of these or none (surveys stored before follow-ups existed have none,
/// and their customers get no follow-up).
pub const FOLLOWUP_FILES: [&str; 3] = [
    "followup.subject.hbs",
    "followup.txt.hbs",
    "followup.html.hbs",
];

/// "You said, we did" (`pds areas announce`): a locale folder has all of these or
/// none (a survey without them cannot announce).
pub const ANNOUNCEMENT_FILES: [&str; 3] = [
    "announcement.subject.hbs",
    "announcement.txt.hbs",
    "announcement.html.hbs",
];

/// The emails a survey may do without, each with its files and what to call it.
pub(super) const OPTIONAL_EMAILS: [(&str, &str, [&str; 3]); 2] = [
    ("followup", "a follow-up", FOLLOWUP_FILES),
    ("announcement", "an announcement", ANNOUNCEMENT_FILES),
];

/// Keys every `messages.toml` must define.
pub const MESSAGE_KEYS: [&str; 7] = [
    "text_too_long",
    "rank_duplicate",
    "rank_missing",
    "too_many",
    "empty_answer",
    "no_problems_and_problems",
    "form_too_large",
];

/// Keys a checklist survey's `messages.toml` must define besides [`MESSAGE_KEYS`].
pub const CHECKLIST_MESSAGE_KEYS: [&str; 5] = [
    "item_unanswered",
    "bother_missing",
    "follow_up_without_problem",
    "draft_item",
    "audience_fixed",
];

/// Checks that every locale folder has its files, that an optional email's files
/// are there all or none, and that only a checklist survey has `checklist.toml`.
pub(super) fn check_files(
    locales: &[Locale],
    kind: SurveyKind,
    files: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    for locale in locales {
        for file in LOCALE_FILES {
            let path = format!("{locale}/{file}");
            if !files.contains_key(&path) {
                problems.push(format!("{path}: missing"));
            }
        }
        for (_, what, set) in OPTIONAL_EMAILS {
            let present = set
                .iter()
                .filter(|f| files.contains_key(&format!("{locale}/{f}")))
                .count();
            if present == 0 || present == set.len() {
                continue;
            }
            for file in set {
                let path = format!("{locale}/{file}");
                if !files.contains_key(&path) {
                    problems.push(format!(
                        "{path}: missing ({what} needs all of {})",
                        set.join(", ")
                    ));
                }
            }
        }
    }
    match (kind, files.contains_key(CHECKLIST_FILE)) {
        (SurveyKind::Checklist, false) => problems.push(format!(
            "{CHECKLIST_FILE}: missing (a survey of kind \"checklist\" lists its items there)"
        )),
        (SurveyKind::Discovery, true) => problems.push(format!(
            "{CHECKLIST_FILE}: only a checklist survey has one; write kind = \"checklist\" under [survey] in survey.toml, or remove the file"
        )),
        _ => {}
    }
}

/// How many folders deep a survey folder may go (`en/` is one level).
pub const MAX_FOLDER_DEPTH: usize = 8;
/// How many files and folders a survey folder may hold, of any kind.
pub const MAX_FOLDER_ENTRIES: usize = 10_000;
/// The largest template or TOML file read from a survey folder.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The most template and TOML text one survey may hold in all.
pub const MAX_SURVEY_BYTES: u64 = 8 * 1024 * 1024;

/// Reads the survey's `.hbs` and `.toml` files under `root`. What a survey holds
/// must be in its folder: a symbolic link (to a file elsewhere, or back up the
/// tree) or anything else that is not a plain file or folder is refused, not
/// followed, and depth, number of entries and size are bounded, so no folder can
/// make this walk run without end.
pub(super) fn collect_files(
    root: &Path,
    files: &mut BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let mut entries_seen = 0usize;
    let mut bytes_read = 0u64;
    let mut folders = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = folders.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("{}: cannot be read: {e}", dir.display()));
                continue;
            }
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            entries_seen += 1;
            if entries_seen > MAX_FOLDER_ENTRIES {
                problems.push(format!(
                    "the folder holds more than {MAX_FOLDER_ENTRIES} files and folders; keep only the survey's files in it"
                ));
                return;
            }
            let path = entry.path();
            let rel = relative(&path);
            // `DirEntry::file_type` describes the entry itself: a link is not followed.
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(e) => {
                    problems.push(format!("{rel}: cannot be read: {e}"));
                    continue;
                }
            };
            if kind.is_symlink() {
                problems.push(format!(
                    "{rel}: is a symbolic link; a survey folder must hold its own files, so copy the file or folder in instead of linking to it"
                ));
            } else if kind.is_dir() {
                if depth + 1 >= MAX_FOLDER_DEPTH {
                    problems.push(format!(
                        "{rel}: folders nest more than {MAX_FOLDER_DEPTH} deep; a survey needs one folder per locale"
                    ));
                } else {
                    folders.push((path, depth + 1));
                }
            } else if !kind.is_file() {
                problems.push(format!(
                    "{rel}: is not a regular file or folder (a device, pipe or socket); remove it from the survey folder"
                ));
            } else if rel.ends_with(".hbs") || rel.ends_with(".toml") {
                match read_bounded(&path, MAX_SURVEY_BYTES.saturating_sub(bytes_read)) {
                    Ok(text) => {
                        bytes_read += text.len() as u64;
                        files.insert(rel, text);
                    }
                    Err(problem) => {
                        let stop = matches!(problem, Unread::Survey);
                        problems.push(format!("{rel}: {problem}"));
                        if stop {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Why a survey file was not read.
#[derive(Debug, thiserror::Error)]
enum Unread {
    #[error("is larger than {} KiB; a template or TOML file must be smaller", MAX_FILE_BYTES / 1024)]
    File,
    #[error("the survey's files together are larger than {} MiB; keep only the survey's files in its folder", MAX_SURVEY_BYTES / (1024 * 1024))]
    Survey,
    #[error("cannot be read as UTF-8 text: {0}")]
    Unreadable(std::io::Error),
}

/// A file's text, reading no more than the limits allow (a file that grows while
/// it is read still stops there).
fn read_bounded(path: &Path, room_left: u64) -> Result<String, Unread> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(Unread::Unreadable)?;
    let limit = MAX_FILE_BYTES.min(room_left);
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Unreadable)?;
    match bytes.len() as u64 {
        n if n > MAX_FILE_BYTES => Err(Unread::File),
        n if n > limit => Err(Unread::Survey),
        _ => String::from_utf8(bytes).map_err(|e| {
            Unread::Unreadable(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }),
    }
}

pub(super) fn collect_embedded(
    dir: &include_dir::Dir<'_>,
    prefix: &str,
    files: &mut BTreeMap<String, String>,
) {
    for file in dir.files() {
        let rel = file
            .path()
            .strip_prefix(prefix)
            .unwrap_or(file.path())
            .to_string_lossy()
            .replace('\\', "/");
        if let Some(text) = file.contents_utf8() {
            files.insert(rel, text.to_string());
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, prefix, files);
    }
}
