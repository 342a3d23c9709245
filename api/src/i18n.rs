//! Every client-facing message in English and Arabic. The request's language is set by the
//! `Accept-Language` header (default English) for the duration of the request, so errors raised
//! anywhere (extractors, handlers, middleware) speak it.

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

    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        REQUEST_LANG.scope(self, future).await
    }
}

/// The message for a code in the request's language.
pub fn message(code: &str) -> &'static str {
    let (en, ar) = texts(code);
    match Lang::current() {
        Lang::En => en,
        Lang::Ar => ar,
    }
}

fn texts(code: &str) -> (&'static str, &'static str) {
    match code {
        // Success.
        "ok" => ("OK", "تم بنجاح"),
        "registered" => ("Your account was created.", "تم إنشاء حسابك."),
        "logged_in" => ("You are logged in.", "تم تسجيل الدخول."),
        "logged_out" => ("You are logged out.", "تم تسجيل الخروج."),
        "top_up_created" => ("Top-up created; complete the payment to credit your wallet.", "تم إنشاء طلب الشحن؛ أكمل الدفع لإضافة الرصيد إلى محفظتك."),
        "withdrawal_requested" => ("Withdrawal requested.", "تم طلب السحب."),
        "withdrawal_approved" => ("Withdrawal approved.", "تمت الموافقة على السحب."),
        "withdrawal_rejected" => ("Withdrawal rejected; the amount is back in the wallet.", "تم رفض السحب وأعيد المبلغ إلى المحفظة."),
        "webhook_processed" => ("Payment notification processed.", "تمت معالجة إشعار الدفع."),
        // Client errors.
        "malformed_json" => ("The request body is not valid JSON.", "نص الطلب ليس بصيغة JSON صالحة."),
        "malformed_request" => ("The request is malformed.", "الطلب غير صالح."),
        "missing_idempotency_key" => ("The Idempotency-Key header is required.", "ترويسة Idempotency-Key مطلوبة."),
        "invalid_idempotency_key" => ("The Idempotency-Key header must be 1 to 255 characters.", "يجب أن تكون ترويسة Idempotency-Key بين 1 و255 حرفاً."),
        "idempotency_key_reused" => ("This Idempotency-Key was already used with a different request.", "استُخدم مفتاح Idempotency-Key هذا مسبقاً مع طلب مختلف."),
        "unauthorized" => ("Authentication is required.", "يلزم تسجيل الدخول."),
        "invalid_token" => ("The access token is invalid, expired or revoked.", "رمز الدخول غير صالح أو منتهي الصلاحية أو ملغى."),
        "invalid_credentials" => ("The login or password is incorrect.", "بيانات الدخول غير صحيحة."),
        "invalid_signature" => ("The signature is missing or wrong.", "التوقيع مفقود أو غير صحيح."),
        "forbidden" => ("You are not allowed to do this.", "غير مسموح لك بهذا الإجراء."),
        "not_found" => ("Not found.", "غير موجود."),
        "method_not_allowed" => ("This method is not allowed here.", "هذه الطريقة غير مسموح بها هنا."),
        "payload_too_large" => ("The request body is larger than 64 KiB.", "نص الطلب أكبر من 64 كيلوبايت."),
        "validation_failed" => ("Some fields are invalid.", "بعض الحقول غير صالحة."),
        "email_taken" => ("This email is already registered.", "هذا البريد الإلكتروني مسجل مسبقاً."),
        "username_taken" => ("This username is already taken.", "اسم المستخدم هذا مستخدم مسبقاً."),
        "insufficient_funds" => ("The wallet balance is not enough.", "رصيد المحفظة غير كافٍ."),
        "wallet_not_open" => ("The wallet is not open.", "المحفظة غير مفعلة."),
        "duplicate_withdrawal" => ("This withdrawal already exists.", "طلب السحب هذا موجود مسبقاً."),
        "withdrawal_not_pending" => ("This withdrawal is no longer pending.", "طلب السحب هذا لم يعد قيد الانتظار."),
        "top_up_already_settled" => ("This top-up is already settled.", "تمت تسوية عملية الشحن هذه مسبقاً."),
        "amount_mismatch" => ("The amount does not match the top-up.", "المبلغ لا يطابق عملية الشحن."),
        "conflict" => ("The resource was changed at the same time; try again.", "تم تعديل المورد في الوقت نفسه؛ حاول مجدداً."),
        "rate_limited" => ("Too many requests; try again later.", "طلبات كثيرة جداً؛ حاول لاحقاً."),
        "stale_read" => ("The data is not up to date yet; try again shortly.", "البيانات لم تُحدَّث بعد؛ حاول بعد قليل."),
        "database_unavailable" => ("The database is unreachable; try again shortly.", "قاعدة البيانات غير متاحة؛ حاول بعد قليل."),
        "service_unavailable" => ("A service is unavailable; try again shortly.", "إحدى الخدمات غير متاحة؛ حاول بعد قليل."),
        _ => ("Something went wrong on our side.", "حدث خطأ من جهتنا."),
    }
}

/// Field-level validation reasons, also localized.
pub fn reason(code: &str) -> &'static str {
    let (en, ar) = match code {
        "required" => ("is required", "مطلوب"),
        "invalid_email" => ("is not a valid email address", "ليس بريداً إلكترونياً صالحاً"),
        "invalid_username" => ("must be 3 to 30 letters, digits, '_' or '.', starting with a letter", "يجب أن يكون من 3 إلى 30 حرفاً أو رقماً أو '_' أو '.' ويبدأ بحرف"),
        "invalid_name" => ("must be 1 to 100 characters", "يجب أن يكون من 1 إلى 100 حرف"),
        "weak_password" => ("needs at least 8 characters with an upper-case letter, a digit and a symbol", "يجب أن تتكون من 8 أحرف على الأقل وتحتوي حرفاً كبيراً ورقماً ورمزاً"),
        "invalid_role" => ("must be student or speaker", "يجب أن يكون student أو speaker"),
        "invalid_language" => ("must be ar or en", "يجب أن تكون ar أو en"),
        "invalid_amount" => ("must be a positive amount with at most two decimals", "يجب أن يكون مبلغاً موجباً بخانتين عشريتين على الأكثر"),
        "unknown_provider" => ("is not a supported payment provider", "ليس مزود دفع مدعوماً"),
        "invalid_page" => ("must be a whole number of at least 1", "يجب أن يكون عدداً صحيحاً لا يقل عن 1"),
        "invalid_per_page" => ("must be a whole number from 1 to 100", "يجب أن يكون عدداً صحيحاً من 1 إلى 100"),
        "invalid_category" => ("is not a known category", "ليست فئة معروفة"),
        "too_long" => ("is too long", "طويل جداً"),
        _ => ("is invalid", "غير صالح"),
    };
    match Lang::current() {
        Lang::En => en,
        Lang::Ar => ar,
    }
}
