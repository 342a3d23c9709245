//! The run command's demo data (`SEED_DEMO_DATA=1`): users who can log in and see their wallets,
//! seeded once however often the server starts, and documented where a newcomer looks.

use api::Application;
use api::seed::{DEMO_EARNING, DEMO_PASSWORD, DEMO_SPEAKER, DEMO_STUDENT};

use super::head;
use crate::api::{NO_RATE_LIMITS, TestApp, settings};

const SEED: (&str, &str) = ("SEED_DEMO_DATA", "1");

async fn event_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&app.db.pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_users_log_in_and_see_their_seeded_wallets() {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let app = TestApp::spawn(&[limit, auth_limit, SEED]).await;

    let student = app.login(DEMO_STUDENT.email, DEMO_PASSWORD).await;
    let wallet = app.wallet(&student, head(&app).await).await;
    // 500.00 topped up, 115.00 spent on a course.
    assert_eq!(wallet["balance"], "385.00", "{wallet}");

    let speaker = app.login(DEMO_SPEAKER.username, DEMO_PASSWORD).await;
    let wallet = app.wallet(&speaker, head(&app).await).await;
    assert_eq!(wallet["balance"], "0.00", "{wallet}");
    assert_eq!(wallet["pending_balance"], DEMO_EARNING, "{wallet}");
    let me = app.get_with("/auth/me", Some(&speaker), &[]).await;
    assert_eq!(me.body["data"]["roles"], serde_json::json!(["student", "speaker"]), "{}", me.text);

    // A living catalogue: published courses in both languages, books, categories, enrollments.
    let position = head(&app).await.to_string();
    let courses = app.get_with("/courses", None, &[("X-Min-Position", &position)]).await;
    assert_eq!(courses.body["meta"]["pagination"]["total"], 4, "{}", courses.text);
    let quran = app.get_with("/courses?q=%D8%A7%D9%84%D9%82%D8%B1%D8%A7%D9%86", None, &[]).await;
    assert_eq!(quran.body["data"][0]["speaker"]["name"], "أحمد السالم", "{}", quran.text);
    assert_eq!(quran.body["data"][0]["students_count"], 1);
    assert_eq!(app.get_with("/books", None, &[]).await.body["meta"]["pagination"]["total"], 2);
    assert_eq!(app.get_with("/categories", None, &[]).await.body["data"].as_array().unwrap().len(), 4);
    let enrolled = app.get_with("/me/enrollments", Some(&student), &[]).await;
    assert_eq!(enrolled.body["data"][0]["title"], "Public speaking fundamentals", "{}", enrolled.text);

    // A living feed: the student follows the demo speaker and أحمد, not Sarah.
    let feed = app.get_with("/feed", Some(&student), &[("X-Min-Position", &position)]).await;
    let authors: Vec<&str> = feed.body["data"].as_array().unwrap().iter().filter_map(|post| post["author"]["username"].as_str()).collect();
    assert_eq!(authors, ["demo_speaker", "ahmad_alsalem"], "{}", feed.text);
    assert_eq!(feed.body["data"][0]["my_reaction"], "like", "{}", feed.text);
    assert_eq!(feed.body["data"][1]["comments_count"], 1, "{}", feed.text);
    let gifts = app.get_with("/gifts", None, &[]).await;
    let gifts: Vec<(&str, &str)> = gifts.body["data"].as_array().unwrap().iter().map(|gift| (gift["name_en"].as_str().unwrap(), gift["price"].as_str().unwrap())).collect();
    assert_eq!(gifts, [("Rose", "5.00"), ("Coffee", "15.00"), ("Trophy", "100.00")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_seeds_nothing() {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let extra = [limit, auth_limit, SEED];
    let app = TestApp::spawn(&extra).await;
    let seeded = event_count(&app).await;
    assert!(seeded > 0);

    let again = Application::build(settings(&app.db, &extra)).await.expect("a second start on the same database");
    assert_eq!(event_count(&app).await, seeded, "a second start appended events");
    let run = api::seed::seed_demo_data(&again.state().commands).await.unwrap();
    assert!(!run.appended, "a third run says it appended something");
    assert_eq!(event_count(&app).await, seeded);

    let student = app.login(DEMO_STUDENT.email, DEMO_PASSWORD).await;
    assert_eq!(app.wallet(&student, head(&app).await).await["balance"], "385.00");
}

/// The credentials are printed by the run command and written in the README; this keeps the
/// three in step.
#[test]
fn the_readme_and_the_run_command_give_the_demo_credentials() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in ["README.md", "scripts/run.sh"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for expected in [DEMO_STUDENT.email, DEMO_SPEAKER.email, DEMO_PASSWORD] {
            assert!(text.contains(expected), "{file} does not mention {expected}");
        }
    }
}
