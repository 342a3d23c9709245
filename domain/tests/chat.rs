//! Chat: one conversation per pair, who may post and delete, replies, read markers.

use chrono::{DateTime, Utc};
use domain::chat::{ChatError, Conversation, ConversationCommand, ConversationEvent, MessageBody, MessageType, NewMessage, conversation_id, media_urls};
use domain::kernel::DomainEvent;
use domain::kernel::testing::given;
use uuid::Uuid;

const ANNA: Uuid = Uuid::from_u128(1);
const BILAL: Uuid = Uuid::from_u128(2);
const STRANGER: Uuid = Uuid::from_u128(3);
const FIRST: Uuid = Uuid::from_u128(10);
const SECOND: Uuid = Uuid::from_u128(11);

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().unwrap()
}

fn started() -> ConversationEvent {
    ConversationEvent::ConversationStarted { conversation_id: conversation_id(ANNA, BILAL), participants: [ANNA, BILAL], started_at: now() }
}

fn text(body: &str) -> NewMessage {
    NewMessage { message_type: MessageType::Text, body: Some(MessageBody::parse(body).unwrap()), media_urls: vec![], reply_to_id: None }
}

fn sent(message_id: Uuid, sender: Uuid, reply_to_id: Option<Uuid>) -> ConversationEvent {
    ConversationEvent::MessageSent {
        conversation_id: conversation_id(ANNA, BILAL),
        message_id,
        sender_id: sender,
        message_type: MessageType::Text,
        body: Some(MessageBody::parse("hello").unwrap().into()),
        media_urls: vec![],
        reply_to_id,
        sent_at: now(),
    }
}

#[test]
fn a_pair_has_one_conversation_whoever_opens_it() {
    assert_eq!(conversation_id(ANNA, BILAL), conversation_id(BILAL, ANNA));
    assert_ne!(conversation_id(ANNA, BILAL), conversation_id(ANNA, STRANGER));
    let open = |starter, other| ConversationCommand::Open { conversation_id: conversation_id(ANNA, BILAL), starter, other, now: now() };
    given::<Conversation>([]).when(open(ANNA, BILAL)).then(vec![started()]);
    given::<Conversation>([started()]).when(open(BILAL, ANNA)).then_nothing();
    given::<Conversation>([]).when(ConversationCommand::Open { conversation_id: conversation_id(ANNA, ANNA), starter: ANNA, other: ANNA, now: now() })
        .then_rejected(ChatError::OwnConversation);
    // An id that is not the pair's names no conversation of theirs.
    given::<Conversation>([]).when(ConversationCommand::Open { conversation_id: conversation_id(ANNA, STRANGER), starter: ANNA, other: BILAL, now: now() })
        .then_rejected(ChatError::UnknownConversation);
}

#[test]
fn only_participants_post_and_replies_point_inside_the_conversation() {
    let send = |message_id, sender, message| ConversationCommand::Send { message_id, sender, message, now: now() };
    given::<Conversation>([started()]).when(send(FIRST, ANNA, text("hello"))).then(vec![sent(FIRST, ANNA, None)]);
    given::<Conversation>([started()]).when(send(FIRST, STRANGER, text("hello"))).then_rejected(ChatError::UnknownConversation);
    given::<Conversation>([]).when(send(FIRST, ANNA, text("hello"))).then_rejected(ChatError::UnknownConversation);
    let reply = NewMessage { reply_to_id: Some(FIRST), ..text("hello") };
    given::<Conversation>([started(), sent(FIRST, ANNA, None)]).when(send(SECOND, BILAL, reply.clone())).then(vec![sent(SECOND, BILAL, Some(FIRST))]);
    given::<Conversation>([started()]).when(send(SECOND, BILAL, reply)).then_rejected(ChatError::InvalidReplyTo);
    given::<Conversation>([started(), sent(FIRST, ANNA, None)]).when(send(FIRST, ANNA, text("again"))).then_rejected(ChatError::MessageExists);
}

#[test]
fn a_message_needs_what_its_type_shows() {
    let send = |message| ConversationCommand::Send { message_id: FIRST, sender: ANNA, message, now: now() };
    let image = media_urls(&["https://cdn.example.com/a.jpg".to_owned()]).unwrap();
    given::<Conversation>([started()]).when(send(NewMessage { body: None, ..text("x") })).then_rejected(ChatError::InvalidBody);
    given::<Conversation>([started()]).when(send(NewMessage { media_urls: image.clone(), ..text("x") })).then_rejected(ChatError::InvalidMediaUrls);
    given::<Conversation>([started()]).when(send(NewMessage { message_type: MessageType::Image, body: None, ..text("x") })).then_rejected(ChatError::InvalidMediaUrls);
    let (events, _) = given::<Conversation>([started()]).when(send(NewMessage { message_type: MessageType::Image, body: None, media_urls: image, reply_to_id: None })).then_ok();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data_subject(), None, "no body, nothing personal");
    assert_eq!(sent(FIRST, ANNA, None).data_subject(), Some(ANNA), "a body is its sender's personal data");
    assert_eq!(MessageType::parse("sticker"), Err(ChatError::InvalidMessageType));
    assert_eq!(MessageBody::parse("  "), Err(ChatError::InvalidBody));
    assert!(media_urls(&vec!["https://cdn.example.com/a.jpg".to_owned(); 11]).is_err());
}

#[test]
fn only_the_sender_deletes_once() {
    let delete = |by| ConversationCommand::Delete { message_id: FIRST, by, now: now() };
    let deleted = ConversationEvent::MessageDeleted { conversation_id: conversation_id(ANNA, BILAL), message_id: FIRST, sender_id: ANNA, deleted_at: now() };
    given::<Conversation>([started(), sent(FIRST, ANNA, None)]).when(delete(ANNA)).then(vec![deleted.clone()]);
    given::<Conversation>([started(), sent(FIRST, ANNA, None)]).when(delete(BILAL)).then_rejected(ChatError::NotSender);
    given::<Conversation>([started(), sent(FIRST, ANNA, None)]).when(delete(STRANGER)).then_rejected(ChatError::UnknownConversation);
    given::<Conversation>([started(), sent(FIRST, ANNA, None), deleted]).when(delete(ANNA)).then_nothing();
    given::<Conversation>([started()]).when(delete(ANNA)).then_rejected(ChatError::UnknownMessage);
}

#[test]
fn reading_marks_up_to_the_last_message_once() {
    let read = |reader| ConversationCommand::Read { reader, now: now() };
    let history = [started(), sent(FIRST, ANNA, None), sent(SECOND, ANNA, None)];
    let marked = ConversationEvent::ConversationRead { conversation_id: conversation_id(ANNA, BILAL), reader_id: BILAL, up_to_message_id: SECOND, read_at: now() };
    given::<Conversation>(history.clone()).when(read(BILAL)).then(vec![marked.clone()]);
    let mut read_already = history.to_vec();
    read_already.push(marked);
    given::<Conversation>(read_already).when(read(BILAL)).then_nothing();
    // One's own messages are read.
    given::<Conversation>(history.clone()).when(read(ANNA)).then_nothing();
    given::<Conversation>([started()]).when(read(BILAL)).then_nothing();
    given::<Conversation>(history).when(read(STRANGER)).then_rejected(ChatError::UnknownConversation);
}
