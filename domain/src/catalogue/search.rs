//! Text as catalogue search compares it, the same on both sides: what is stored and what is
//! asked. Arabic is normalised as Lucene's Arabic normaliser does — hamza forms of alef to bare
//! alef, taa marbuta to haa, alef maqsura to yaa, diacritics and tatweel removed — so "القران"
//! finds "القرآن" and "مدرسه" finds "مدرسة"; Arabic-Indic digits become ASCII digits, Latin
//! letters lower case, and every run of anything else one space.

/// At most this many terms of a query count; the rest are ignored.
pub const QUERY_TERMS_MAX: usize = 8;
/// A term longer than this is cut: no title word is longer.
pub const TERM_LEN_MAX: usize = 64;

/// `text` normalised for matching: words of letters and digits, separated by single spaces.
pub fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        let Some(c) = fold(c) else { continue };
        if c.is_alphanumeric() {
            if gap && !normalized.is_empty() {
                normalized.push(' ');
            }
            gap = false;
            normalized.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    normalized
}

/// The terms of a query, each normalised, to be found anywhere in the normalised text (all of
/// them: terms combine with AND). Empty when the query has no letter or digit.
pub fn terms(query: &str) -> Vec<String> {
    normalize(query)
        .split(' ')
        .filter(|term| !term.is_empty())
        .take(QUERY_TERMS_MAX)
        .map(|term| term.chars().take(TERM_LEN_MAX).collect())
        .collect()
}

/// One character as search sees it; `None` for marks that do not count.
fn fold(c: char) -> Option<char> {
    match c {
        // Tatweel, the harakat (fathatan … sukun and the marks after them), superscript alef,
        // and the Quranic annotation marks.
        '\u{0640}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}' => None,
        // Alef with madda, with hamza above or below, and alef wasla: bare alef.
        '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' => Some('\u{0627}'),
        // Taa marbuta: haa.
        '\u{0629}' => Some('\u{0647}'),
        // Alef maqsura: yaa.
        '\u{0649}' => Some('\u{064A}'),
        // Arabic-Indic and extended Arabic-Indic digits: ASCII digits.
        '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
        '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
        _ => Some(c),
    }
}
