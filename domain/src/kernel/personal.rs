//! Personal data inside events. A `Personal` field is stored sealed with its data subject's key
//! (see the event store's `personal` module); deleting that key erases it, and readers then see
//! `Erased` where the value was. The domain only marks what is personal and says what an erased
//! value means; it never sees ciphertext or keys.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// The JSON key marking a personal value on its way to the store, and on its way back.
pub const PERSONAL_MARKER: &str = "$personal";
/// The JSON key marking a personal value whose key was deleted.
pub const ERASED_MARKER: &str = "$erased";

/// What a reader shows in place of an erased person's name.
pub const DELETED_USER_NAME: &str = "deleted user";

/// A personal value, or the fact that it was erased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Personal<T> {
    Known(T),
    Erased,
}

impl<T> Personal<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Personal::Known(value) => Some(value),
            Personal::Erased => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Personal::Known(value) => Some(value),
            Personal::Erased => None,
        }
    }

    pub fn is_erased(&self) -> bool {
        matches!(self, Personal::Erased)
    }
}

impl<T> From<T> for Personal<T> {
    fn from(value: T) -> Personal<T> {
        Personal::Known(value)
    }
}

impl<T: Serialize> Serialize for Personal<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Personal::Known(value) => map.serialize_entry(PERSONAL_MARKER, value)?,
            Personal::Erased => map.serialize_entry(ERASED_MARKER, &true)?,
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Personal<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PersonalVisitor(std::marker::PhantomData))
    }
}

struct PersonalVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for PersonalVisitor<T> {
    type Value = Personal<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an unsealed personal value ({{\"{PERSONAL_MARKER}\": …}} or {{\"{ERASED_MARKER}\": true}})")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Personal<T>, M::Error> {
        let key: String = map.next_key()?.ok_or_else(|| de::Error::custom("an empty object is not a personal value"))?;
        let value = match key.as_str() {
            PERSONAL_MARKER => Personal::Known(map.next_value()?),
            ERASED_MARKER => {
                map.next_value::<de::IgnoredAny>()?;
                Personal::Erased
            }
            // Sealed data reaching the domain means a reader skipped the store's unsealing.
            other => return Err(de::Error::custom(format!("{other:?} is not an unsealed personal value"))),
        };
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a personal value has exactly one key"));
        }
        Ok(value)
    }
}

/// The JSON key of a personal value that was stored in plain text, before sealing existed: an
/// upcaster wraps such a value with its subject, `{"$plain": {"subject": …, "value": …}}`, and
/// readers show it only while that subject has not been erased.
pub const PLAIN_MARKER: &str = "$plain";

/// `value`, stored in plain text before sealing existed, as an upcaster hands it to readers.
pub fn plain_personal(subject: uuid::Uuid, value: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ PLAIN_MARKER: { "subject": subject, "value": value } })
}
