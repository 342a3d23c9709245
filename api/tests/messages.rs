//! Every code a client can be answered with has its text in English and in Arabic. Texts the API
//! raises itself are `Text` values that carry both languages; the domain's rejections are codes,
//! looked up in each context's tables: this test fails when one of them has none.

use api::error::ApiError;
use api::i18n::{REASONS, REJECTIONS, Text, reason, rejection_message};
use domain::kernel::RejectionKind;

fn is_arabic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

#[track_caller]
fn assert_bilingual(text: &Text) {
    assert!(!text.en.trim().is_empty() && !is_arabic(text.en), "{}: the English text is missing or not English", text.code);
    assert!(is_arabic(text.ar), "{}: the Arabic text is missing or not Arabic", text.code);
}

#[test]
fn every_rejection_the_domain_can_answer_has_a_message_in_both_languages() {
    let mut missing = Vec::new();
    for context in domain::CONTEXTS {
        for rejected in (context.rejections)() {
            let text = match rejected.kind {
                // Shown as 422 `validation_failed`, with the code as the field's reason.
                RejectionKind::Invalid if rejected.field.is_some() => reason(rejected.code),
                // Shown as 422 with the code itself (`no_lessons`, `cart_empty`).
                RejectionKind::Invalid => rejection_message(rejected.code),
                // Shown as 404 `not_found`, whatever the code: nothing more is told.
                RejectionKind::NotFound => continue,
                RejectionKind::Conflict | RejectionKind::Forbidden => rejection_message(rejected.code),
            };
            match text {
                Some(text) => assert_bilingual(text),
                None => missing.push(format!("{}: {} ({:?})", context.name, rejected.code, rejected.kind)),
            }
        }
    }
    assert!(missing.is_empty(), "rejections without a message: {missing:#?}");
}

#[test]
fn every_table_is_bilingual_and_names_each_code_once() {
    for tables in [REJECTIONS, REASONS] {
        let mut seen = std::collections::HashSet::new();
        for text in tables.iter().flat_map(|table| table.iter()) {
            assert_bilingual(text);
            assert!(seen.insert(text.code), "{} is listed twice", text.code);
        }
    }
}

#[test]
fn every_error_the_api_raises_has_its_text_in_both_languages() {
    let errors = [
        ApiError::MalformedJson(String::new()),
        ApiError::MalformedRequest(String::new()),
        ApiError::MissingIdempotencyKey,
        ApiError::InvalidIdempotencyKey,
        ApiError::Unauthorized,
        ApiError::InvalidToken,
        ApiError::InvalidCredentials,
        ApiError::InvalidSignature,
        ApiError::Forbidden,
        ApiError::NotFound,
        ApiError::MethodNotAllowed { allow: String::new() },
        ApiError::PayloadTooLarge,
        ApiError::RequestTimeout,
        ApiError::Validation(Default::default()),
        ApiError::IdempotencyKeyReused,
        ApiError::Contention,
        ApiError::RateLimited { retry_after_seconds: 1 },
        ApiError::StaleRead(0),
        ApiError::Unavailable(String::new()),
        ApiError::OutcomeUnknown(String::new()),
        ApiError::StoreCorrupt(String::new()),
        ApiError::Internal(String::new()),
    ];
    for error in &errors {
        assert_bilingual(error.text());
        assert_eq!(error.code(), error.text().code);
    }
}
