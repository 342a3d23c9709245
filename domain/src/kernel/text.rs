//! Text values that are valid by construction: `Email`, `Username`, a course title. Each has a
//! `parse` that validates and normalizes; `text_value!` gives it the rest.

/// Implements, for a newtype over `String` with `fn parse(&str) -> Result<Self, Error>`:
/// `as_str`, `Display`, and the conversions serde goes through (`#[serde(try_from = "String",
/// into = "String")]`). Reading back is strict: a stored text that `parse` would change was not
/// written by us, and is refused with `$refused(text)`.
#[macro_export]
macro_rules! text_value {
    ($name:ident, $error:ty, $refused:expr) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $error;
            fn try_from(text: String) -> Result<$name, $error> {
                let value = $name::parse(&text)?;
                if value.0 != text {
                    let refused: fn(String) -> $error = $refused;
                    return Err(refused(text));
                }
                Ok(value)
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
