//! The catalogue over HTTP: categories, courses with their sections and lessons, and books.

use crate::i18n::Text;

/// Messages of the catalogue's conflicts and refusals.
pub const REJECTIONS: &[Text] = &[
    Text::new("no_lessons", "A course needs at least one lesson before it is published.", "يحتاج المقرر إلى درس واحد على الأقل قبل نشره."),
    Text::new("not_author", "Only the author can change this.", "لا يستطيع تعديل هذا إلا صاحبه."),
    Text::new("already_exists", "This already exists.", "هذا موجود مسبقاً."),
    Text::new("invalid_state", "This cannot be done in its current state.", "لا يمكن تنفيذ هذا في حالته الحالية."),
];

/// Reasons of the catalogue's invalid fields (`invalid_language` is the users' one).
pub const REASONS: &[Text] = &[
    Text::new("invalid_title", "must be 1 to 200 characters without control characters", "يجب أن يكون بين 1 و200 حرف دون محارف تحكم"),
    Text::new("invalid_description", "must be 1 to 10,000 characters", "يجب أن يكون بين 1 و10,000 حرف"),
    Text::new("invalid_category_name", "must be 1 to 100 characters", "يجب أن يكون بين 1 و100 حرف"),
    Text::new(
        "invalid_price",
        "must be an amount from 0.00 to 100000.00 with at most two decimals",
        "يجب أن يكون مبلغاً من 0.00 إلى 100000.00 بمنزلتين عشريتين على الأكثر",
    ),
    Text::new("discount_not_below_price", "must be below the price", "يجب أن يكون أقل من السعر"),
    Text::new("invalid_level", "must be beginner, intermediate or advanced", "يجب أن يكون beginner أو intermediate أو advanced"),
    Text::new("invalid_content_type", "must be video, audio, pdf, text or link", "يجب أن يكون video أو audio أو pdf أو text أو link"),
    Text::new("invalid_url", "must be an http or https URL of at most 2048 characters", "يجب أن يكون رابط http أو https لا يتجاوز 2048 حرفاً"),
    Text::new("invalid_duration", "must be 0 to 86,400 seconds", "يجب أن تكون بين 0 و86,400 ثانية"),
    Text::new("invalid_author", "must be 1 to 200 characters", "يجب أن يكون بين 1 و200 حرف"),
    Text::new("invalid_isbn", "must have 10 or 13 digits (an ISBN-10 may end in X)", "يجب أن يتكون من 10 أو 13 رقماً (وقد ينتهي ISBN-10 بالحرف X)"),
    Text::new("invalid_page_count", "must be a whole number from 1 to 100,000", "يجب أن يكون عدداً صحيحاً من 1 إلى 100,000"),
    Text::new("invalid_preview_pages", "must be 0 to the page count", "يجب أن يكون بين 0 وعدد الصفحات"),
    Text::new("unknown_category", "is not a known category", "ليست فئة معروفة"),
];
