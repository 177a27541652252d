//! Typed ids of the things the application keeps: a sync job's id cannot be passed where a
//! research run's is expected, and ids are parsed once, where they enter (an HTTP path, a CLI
//! argument, a stored row). Each is a UUID (the store makes time-ordered v7 ones), written in
//! its hyphenated lowercase form.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Text that is not an id of `what`; refused where the id enters, as the id of nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{}' does not exist", stockpilot_domain::text::excerpt(.input))]
pub struct InvalidId {
    /// What the id names, e.g. `sync job`.
    pub what: &'static str,
    /// The text given.
    pub input: String,
}

/// Declares a typed id: a `Copy` newtype over [`Uuid`] with parsing, `Display` and serde as
/// the hyphenated text.
macro_rules! typed_id {
    ($(#[doc = $doc:literal])* $name:ident, $what:literal) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// What the id names, in messages.
            pub const WHAT: &'static str = $what;

            /// The UUID, for stores.
            pub const fn uuid(self) -> Uuid {
                self.0
            }

            /// # Errors
            /// [`InvalidId`] for text that is not a UUID.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                Uuid::parse_str(text).map($name).map_err(|_| InvalidId {
                    what: $what,
                    input: text.to_owned(),
                })
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, InvalidId> {
                $name::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0.hyphenated())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// A sync job.
    JobId,
    "sync job"
);
typed_id!(
    /// A research run.
    RunId,
    "research run"
);
typed_id!(
    /// An API key.
    KeyId,
    "API key"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_of_a_uuid_and_prints_the_hyphenated_one() {
        let text = "0194f0a0-1234-7abc-8def-0123456789ab";
        let id = JobId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(
            JobId::parse("0194F0A012347ABC8DEF0123456789AB").unwrap(),
            id
        );
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<JobId>(&format!("\"{text}\"")).unwrap(),
            id
        );
    }

    #[test]
    fn refuses_other_text_as_the_id_of_nothing() {
        let e = RunId::parse("42").unwrap_err();
        assert_eq!(e.to_string(), "research run '42' does not exist");
        assert!(serde_json::from_str::<KeyId>("\"x\"").is_err());
    }
}
