//! Every fault of a value at once. serde stops at a value's first error;
//! the lists and records of this layer go on, collect the fault of each
//! member and element, and report them together as one error whose message
//! carries them all. The edge reads them back out ([`Faults::read`]), so a
//! client learns of `other_names[0].name` and `other_names[0].lang` in one
//! answer.

use serde::de;

/// Marks a message that carries several faults (it cannot start a message
/// of serde's or of a rule's).
const MARK: &str = "\u{0}faults\u{0}";

/// Most faults one value reports: past them, a body is named as at fault
/// only so far (its size is the client's, the work and the answer are not).
pub const MAX_FAULTS: usize = 100;

/// Faults found inside one value: each a path relative to the value
/// (`name`, `[2]`, `[2].url`; empty for the value itself) and a message.
#[derive(Debug, Default)]
pub struct Faults(Vec<(String, String)>);

impl Faults {
    /// A fault at `path` inside the value (the first [`MAX_FAULTS`] only).
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.0.len() < MAX_FAULTS {
            self.0.push((path.into(), message.into()));
        }
    }

    /// Whether no more faults are taken.
    pub fn is_full(&self) -> bool {
        self.0.len() >= MAX_FAULTS
    }

    /// The faults of a member or element at `at` (`name`, `[2]`), from the
    /// error deserializing it: all it carries, or its one message.
    pub fn add_error(&mut self, at: &str, err: serde_path_to_error::Error<serde_json::Error>) {
        let inner_path = err.path().to_string();
        let path = join(at, if inner_path == "." { "" } else { &inner_path });
        let message = err.into_inner().to_string();
        match Self::read(&message) {
            Some(found) => {
                for (sub, message) in found {
                    self.add(join(&path, &sub), message);
                }
            }
            None => self.add(path, strip_position(&message)),
        }
    }

    /// The faults found: (path, message).
    pub fn into_list(self) -> Vec<(String, String)> {
        self.0
    }

    /// `value` when nothing was found, else one error carrying every fault.
    pub fn finish<T, E: de::Error>(self, value: T) -> Result<T, E> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            let list = serde_json::to_string(&self.0).unwrap_or_default();
            Err(E::custom(format_args!("{MARK}{list}{MARK}")))
        }
    }

    /// The faults a message made by [`Faults::finish`] carries, if it is
    /// one: it starts with the mark (a message that only quotes a client's
    /// text, such as serde's "unknown variant", does not).
    pub fn read(message: &str) -> Option<Vec<(String, String)>> {
        let rest = message.strip_prefix(MARK)?;
        let end = rest.find(MARK)?;
        serde_json::from_str(&rest[..end]).ok()
    }
}

/// The path `inner` inside `outer`.
pub fn join(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty()) {
        (true, _) => inner.trim_start_matches('.').to_owned(),
        (false, true) => outer.to_owned(),
        (false, false) if inner.starts_with('[') || inner.starts_with('.') => {
            format!("{outer}{inner}")
        }
        (false, false) => format!("{outer}.{inner}"),
    }
}

/// A serde_json message without the position it appends.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_travel_inside_one_message_and_nest() {
        let mut inner = Faults::default();
        inner.add("name", "must not be empty");
        inner.add("lang", "must be a BCP 47 language tag");
        let err: serde_json::Error = inner.finish::<(), _>(()).unwrap_err();
        let message = format!("{err} at line 1 column 4");
        let found = Faults::read(&message).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(join("[0]", "name"), "[0].name");
        assert_eq!(join("other_names", "[0].name"), "other_names[0].name");
        assert_eq!(join("", "name"), "name");
        assert_eq!(join("x", ""), "x");
        assert!(Faults::read("must not be empty").is_none());
        let quoted = format!("unknown variant `{message}`, expected `alliance`");
        assert!(Faults::read(&quoted).is_none());
    }
}
