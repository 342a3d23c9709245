//! The catalogue over HTTP: categories, courses with sections and lessons, books, who sees what,
//! per-field validation in both languages, and the Arabic search.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{admin_token, assert_error, field_reasons, read, spawn_with_admin};
use crate::api::{Response, Session, TestApp};

pub(crate) async fn category(app: &TestApp, admin: &str) -> Uuid {
    let response = app.post_json("/admin/categories", Some(admin), &[], &json!({ "name_en": "Languages", "name_ar": "اللغات" })).await;
    assert_eq!(response.status, 201, "{}", response.text);
    id(&response.body["data"]["id"])
}

pub(crate) fn id(value: &Value) -> Uuid {
    value.as_str().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("not an id: {value}"))
}

pub(crate) async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> Response {
    app.send(Method::PATCH, path, Some(token), &[], Some(body.to_string().into_bytes())).await
}

pub(crate) async fn draft_course(app: &TestApp, speaker: &Session, category_id: Uuid, title: &str, price: &str) -> Uuid {
    let body = json!({ "title": title, "description": format!("About {title}"), "category_id": category_id, "language": "ar",
                       "level": "beginner", "price": price });
    let response = app.post_json("/courses", Some(&speaker.token), &[], &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    id(&response.body["data"]["id"])
}

/// A published course with one section and two lessons, the first a preview.
pub(crate) async fn course(app: &TestApp, speaker: &Session, category_id: Uuid, title: &str, price: &str) -> Uuid {
    let course_id = draft_course(app, speaker, category_id, title, price).await;
    let section = app.post_json(&format!("/courses/{course_id}/sections"), Some(&speaker.token), &[], &json!({ "title": "المقدمة" })).await;
    assert_eq!(section.status, 201, "{}", section.text);
    let section_id = id(&section.body["data"]["id"]);
    for (n, preview) in [(1, true), (2, false)] {
        let lesson = json!({ "title": format!("Lesson {n}"), "content_type": "video", "content_url": format!("https://media.example.com/{course_id}/{n}.mp4"),
                             "duration_seconds": 600, "is_preview": preview });
        let added = app.post_json(&format!("/courses/{course_id}/sections/{section_id}/lessons"), Some(&speaker.token), &[], &lesson).await;
        assert_eq!(added.status, 201, "{}", added.text);
    }
    let published = app.post_json(&format!("/courses/{course_id}/publish"), Some(&speaker.token), &[], &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text);
    course_id
}

/// A published book of 100 pages, 10 of them a preview.
pub(crate) async fn book(app: &TestApp, speaker: &Session, category_id: Uuid, title: &str, price: &str) -> Uuid {
    let body = json!({ "title": title, "description": "A book", "category_id": category_id, "author": "د. أحمد السالم", "isbn": "978-3-16-148410-0",
                       "page_count": 100, "price": price, "preview_pages": 10, "cover_url": "https://media.example.com/cover.jpg",
                       "pdf_url": "https://media.example.com/book.pdf" });
    let response = app.post_json("/books", Some(&speaker.token), &[], &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    let book_id = id(&response.body["data"]["id"]);
    let published = app.post_json(&format!("/books/{book_id}/publish"), Some(&speaker.token), &[], &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text);
    book_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_goes_from_draft_to_published_to_archived_and_each_reader_sees_what_they_may() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let (speaker, other_speaker, student) = (app.register("speaker").await, app.register("speaker").await, app.register("student").await);

    let course_id = draft_course(&app, &speaker, category_id, "تعلم القرآن الكريم", "115.00").await;
    let path = format!("/courses/{course_id}");
    let draft = read(&app, &path, Some(&speaker.token)).await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    assert_eq!(draft.body["data"]["status"], "draft");
    assert_eq!(draft.body["data"]["speaker"]["username"], speaker.username.as_str());
    assert_eq!(draft.body["data"]["sections"], json!([]));
    assert_error(&read(&app, &path, None).await, 404, "not_found");
    assert_error(&read(&app, &path, Some(&student.token)).await, 404, "not_found");
    assert_eq!(read(&app, &path, Some(&admin)).await.status, 200, "admins see drafts");
    // Someone else's draft does not exist for them, even to change it.
    assert_error(&patch(&app, &path, &other_speaker.token, &json!({ "title": "Mine" })).await, 404, "not_found");

    let publish = format!("/courses/{course_id}/publish");
    assert_error(&app.post_json(&publish, Some(&speaker.token), &[], &json!({})).await, 422, "no_lessons");
    let section = app.post_json(&format!("/courses/{course_id}/sections"), Some(&speaker.token), &[], &json!({ "title": "البداية" })).await;
    assert_eq!(section.status, 201, "{}", section.text);
    assert_eq!(section.body["data"]["lessons"], json!([]));
    let section_id = id(&section.body["data"]["id"]);
    let lessons = format!("/courses/{course_id}/sections/{section_id}/lessons");
    let bad_lesson = json!({ "title": "", "content_type": "hologram", "content_url": "ftp://x", "duration_seconds": -5, "is_preview": false });
    let refused = app.post_json(&lessons, Some(&speaker.token), &[], &bad_lesson).await;
    assert_error(&refused, 422, "validation_failed");
    for field in ["title", "content_type", "content_url", "duration_seconds"] {
        assert!(!field_reasons(&refused, field).is_empty(), "{field}: {}", refused.text);
    }
    for (n, title, preview) in [(1, "الدرس المجاني", true), (2, "الدرس المدفوع", false)] {
        let lesson = json!({ "title": title, "content_type": "video", "content_url": format!("https://media.example.com/{n}.mp4"),
                             "duration_seconds": 300, "is_preview": preview });
        let added = app.post_json(&lessons, Some(&speaker.token), &[], &lesson).await;
        assert_eq!(added.status, 201, "{}", added.text);
        assert_eq!(added.body["data"]["title"], title);
    }
    let published = app.post_json(&publish, Some(&speaker.token), &[], &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.body["data"]["status"], "published");
    assert_eq!(published.body["data"]["total_lessons"], 2);
    assert_error(&app.post_json(&publish, Some(&speaker.token), &[], &json!({})).await, 409, "invalid_state");

    // Anyone reads it now; only the preview lesson's content is shown to them.
    let seen = read(&app, &path, None).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    let lessons = seen.body["data"]["sections"][0]["lessons"].as_array().unwrap().clone();
    assert_eq!(lessons.len(), 2);
    assert!(lessons[0]["content_url"].is_string(), "a preview lesson's content is open: {}", seen.text);
    assert!(lessons[1].get("content_url").is_none(), "a paid lesson's content is closed: {}", seen.text);
    assert_eq!(seen.body["data"]["is_enrolled"], false);
    let by_author = read(&app, &path, Some(&speaker.token)).await;
    assert!(by_author.body["data"]["sections"][0]["lessons"][1]["content_url"].is_string(), "the author opens everything");
    // A published course is visible, but only its author changes it.
    assert_error(&patch(&app, &path, &other_speaker.token, &json!({ "title": "Mine" })).await, 403, "not_author");
    assert_error(&app.post_json("/courses", Some(&student.token), &[], &json!({})).await, 403, "forbidden");
    // A student may never use the speakers' routes: 403 before anything else is looked at.
    assert_error(&patch(&app, &path, &student.token, &json!({ "title": "" })).await, 403, "forbidden");
    assert_error(&read(&app, "/me/courses", Some(&student.token)).await, 403, "forbidden");
    assert_error(&read(&app, "/me/sales", Some(&student.token)).await, 403, "forbidden");

    let archived = app.post_json(&format!("/courses/{course_id}/archive"), Some(&speaker.token), &[], &json!({})).await;
    assert_eq!(archived.status, 200, "{}", archived.text);
    assert_error(&read(&app, &path, None).await, 404, "not_found");
    let mine = read(&app, "/me/courses", Some(&speaker.token)).await;
    assert_eq!(mine.body["data"][0]["status"], "archived", "{}", mine.text);
    assert_eq!(mine.body["meta"]["pagination"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_field_is_named_in_english_and_in_arabic_and_nothing_is_created() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let speaker = app.register("speaker").await;
    let body = json!({ "title": " ", "description": "", "category_id": category_id, "language": "fr", "level": "expert",
                       "price": "100.00", "discount_price": "120.00" });
    let refused = app.post_json("/courses", Some(&speaker.token), &[("Accept-Language", "ar")], &body).await;
    assert_error(&refused, 422, "validation_failed");
    assert_eq!(refused.body["message"], "بعض الحقول غير صالحة.");
    for field in ["title", "description", "language", "level", "discount_price"] {
        assert!(!field_reasons(&refused, field).is_empty(), "{field}: {}", refused.text);
    }
    assert_eq!(field_reasons(&refused, "discount_price"), ["يجب أن يكون أقل من السعر"]);
    let refused = app.post_json("/courses", Some(&speaker.token), &[], &json!({ "title": "T", "description": "D", "category_id": category_id,
        "language": "ar", "level": "beginner", "price": "12.345" })).await;
    assert_eq!(field_reasons(&refused, "price"), ["must be an amount from 0.00 to 100000.00 with at most two decimals"]);
    let unknown = app.post_json("/courses", Some(&speaker.token), &[], &json!({ "title": "T", "description": "D", "category_id": Uuid::now_v7(),
        "language": "ar", "level": "beginner", "price": "10.00" })).await;
    assert_eq!(field_reasons(&unknown, "category_id"), ["is not a known category"]);
    let book = app.post_json("/books", Some(&speaker.token), &[], &json!({ "title": "B", "description": "D", "category_id": category_id,
        "author": "A", "isbn": "123", "page_count": 10, "price": "5.00", "preview_pages": 11, "pdf_url": "javascript:alert(1)" })).await;
    assert_error(&book, 422, "validation_failed");
    for field in ["isbn", "preview_pages", "pdf_url"] {
        assert!(!field_reasons(&book, field).is_empty(), "{field}: {}", book.text);
    }
    assert_eq!(super::count_events(&app, "CourseCreated").await + super::count_events(&app, "BookCreated").await, 0);
    let categories = read(&app, "/categories", None).await;
    assert_eq!(categories.body["data"][0]["name"], "Languages");
    let in_arabic = app.get_with("/categories", None, &[("Accept-Language", "ar")]).await;
    assert_eq!(in_arabic.body["data"][0]["name"], "اللغات");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_normalises_arabic_on_both_sides_and_every_filter_and_sort_holds() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let (languages, programming) = (category(&app, &admin).await, category(&app, &admin).await);
    let (speaker, other) = (app.register("speaker").await, app.register("speaker").await);
    let quran = course(&app, &speaker, languages, "تعلّم القرآن الكريم", "200.00").await;
    let school = course(&app, &other, programming, "مدرسة البرمجة", "50.00").await;
    let grammar = course(&app, &speaker, languages, "English Grammar", "120.00").await;
    let draft = draft_course(&app, &speaker, languages, "القرآن مسودة", "10.00").await;
    let search = async |query: &str| -> Vec<Uuid> {
        let response = read(&app, &format!("/courses?{query}"), None).await;
        assert_eq!(response.status, 200, "{query}: {}", response.text);
        response.body["data"].as_array().unwrap().iter().map(|course| id(&course["id"])).collect()
    };
    let q = |text: &str| format!("q={}", urlencode(text));
    assert_eq!(search(&q("القران")).await, [quran], "hamza forms of alef match bare alef");
    assert_eq!(search(&q("مدرسه")).await, [school], "taa marbuta matches haa");
    assert_eq!(search(&q("القُرآن الكريم")).await, [quran], "diacritics are ignored, and every word must match");
    assert_eq!(search(&q("تعلـــم")).await, [quran], "tatweel is ignored");
    assert_eq!(search(&q("GRAMMAR english")).await, [grammar], "English in any case");
    assert!(search(&q("القران مدرسة")).await.is_empty(), "words combine with AND");
    assert!(search(&q("100%_")).await.is_empty(), "LIKE wildcards are plain characters");
    assert!(!search("").await.contains(&draft), "drafts are not listed");
    assert_eq!(search("sort=price_asc").await, [school, grammar, quran]);
    assert_eq!(search("sort=price_desc").await, [quran, grammar, school]);
    assert_eq!(search("min_price=50.00&max_price=120.00&sort=price_asc").await, [school, grammar], "bounds are inclusive");
    assert_eq!(search(&format!("category_id={programming}")).await, [school]);
    assert_eq!(search(&format!("speaker_id={}&sort=price_asc", speaker.user_id)).await, [grammar, quran]);
    assert_eq!(search(&format!("{}&category_id={languages}", q("الكريم"))).await, [quran], "q and filters combine");
    assert_eq!(search("language=en").await, Vec::<Uuid>::new());
    assert_eq!(search("level=beginner&sort=price_asc").await.len(), 3);
    let page = read(&app, "/courses?sort=price_asc&per_page=2&page=2", None).await;
    assert_eq!(page.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["meta"]["pagination"], json!({ "current_page": 2, "total_pages": 2, "per_page": 2, "total": 3 }));
    let refused = read(&app, "/courses?sort=cheapest&min_price=abc&category_id=7&level=guru", None).await;
    assert_error(&refused, 422, "validation_failed");
    for field in ["sort", "min_price", "category_id", "level"] {
        assert!(!field_reasons(&refused, field).is_empty(), "{field}: {}", refused.text);
    }

    // A discount changes the effective price at once for a reader who passes its position.
    let changed = patch(&app, &format!("/courses/{quran}"), &speaker.token, &json!({ "discount_price": "40.00" })).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["data"]["discount_price"], "40.00");
    let position = changed.position().to_string();
    let listed = app.get_with("/courses?sort=price_asc", None, &[("X-Min-Position", &position)]).await;
    assert_eq!(listed.body["data"][0]["id"], quran.to_string(), "{}", listed.text);
    assert_eq!(listed.body["data"][0]["discount_price"], "40.00");
    let removed = patch(&app, &format!("/courses/{quran}"), &speaker.token, &json!({ "discount_price": null })).await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert!(removed.body["data"].get("discount_price").is_none(), "{}", removed.text);
    let position = removed.position().to_string();
    let listed = app.get_with("/courses?sort=price_desc", None, &[("X-Min-Position", &position)]).await;
    assert_eq!(listed.body["data"][0]["id"], quran.to_string(), "the cached page was not served stale: {}", listed.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_books_pdf_is_for_its_author_and_buyers_and_books_search_like_courses() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let speaker = app.register("speaker").await;
    let book_id = book(&app, &speaker, category_id, "كتاب الصلاة", "45.00").await;
    let seen = read(&app, &format!("/books/{book_id}"), None).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(seen.body["data"].get("pdf_url").is_none(), "{}", seen.text);
    assert_eq!(seen.body["data"]["cover_url"], "https://media.example.com/cover.jpg");
    assert_eq!(seen.body["data"]["isbn"], "9783161484100");
    let by_author = read(&app, &format!("/books/{book_id}"), Some(&speaker.token)).await;
    assert_eq!(by_author.body["data"]["pdf_url"], "https://media.example.com/book.pdf");
    let found = read(&app, &format!("/books?q={}", urlencode("الصلاه")), None).await;
    assert_eq!(found.body["data"][0]["id"], book_id.to_string(), "{}", found.text);
    let edited = patch(&app, &format!("/books/{book_id}"), &speaker.token, &json!({ "preview_pages": 101 })).await;
    assert_error(&edited, 422, "validation_failed");
}

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
