//! Every client-facing text in English and Arabic. The request's language is set by the
//! `Accept-Language` header (default English) for the duration of the request, so errors raised
//! anywhere (extractors, handlers, middleware) speak it.
//!
//! A text is a `Text` value that carries both languages, so a message cannot exist in one only.
//! Rejections come from the domain as codes: each context lists the texts of its rejections and
//! field reasons, and `tests/…/messages.rs` fails when any code the domain can answer has none.

use crate::{catalogue, chat, commerce, gifts, invoicing, rooms, social, users, wallet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ar,
}

tokio::task_local! {
    static REQUEST_LANG: Lang;
}

impl Lang {
    /// The first supported language in the header, by order of appearance; English otherwise.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else { return Lang::En };
        for part in header.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag == "ar" || tag.starts_with("ar-") {
                return Lang::Ar;
            }
            if tag == "en" || tag.starts_with("en-") {
                return Lang::En;
            }
        }
        Lang::En
    }

    pub fn current() -> Lang {
        REQUEST_LANG.try_with(|lang| *lang).unwrap_or(Lang::En)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
        }
    }

    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        REQUEST_LANG.scope(self, future).await
    }
}

/// One text in both languages, named by a snake_case code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    pub code: &'static str,
    pub en: &'static str,
    pub ar: &'static str,
}

impl Text {
    pub const fn new(code: &'static str, en: &'static str, ar: &'static str) -> Text {
        Text { code, en, ar }
    }

    /// The text in the request's language.
    pub fn current(&self) -> &'static str {
        self.in_language(Lang::current())
    }

    pub fn in_language(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ar => self.ar,
        }
    }
}

/// The messages of the domain's rejections: one line per context.
pub const REJECTIONS: &[&[Text]] = &[users::REJECTIONS, wallet::REJECTIONS, catalogue::REJECTIONS, commerce::REJECTIONS, rooms::REJECTIONS, social::REJECTIONS, gifts::REJECTIONS, chat::REJECTIONS];

/// Field reasons of 422 answers, including the domain's `Invalid` rejections: one line per context.
pub const REASONS: &[&[Text]] = &[crate::extract::REASONS, users::REASONS, wallet::REASONS, catalogue::REASONS, commerce::REASONS, invoicing::REASONS, rooms::REASONS, rooms::chat::REASONS, social::REASONS, gifts::REASONS, chat::REASONS];

fn find(tables: &'static [&'static [Text]], code: &str) -> Option<&'static Text> {
    tables.iter().flat_map(|table| table.iter()).find(|text| text.code == code)
}

/// The message of a domain rejection's code.
pub fn rejection_message(code: &str) -> Option<&'static Text> {
    find(REJECTIONS, code)
}

/// The text of a field reason's code.
pub fn reason(code: &str) -> Option<&'static Text> {
    find(REASONS, code)
}
