//! Self-tests of the fake Bot API (`crates/fake-botapi`): real teloxide requests are accepted
//! and recorded, and everything Telegram refuses is refused, with the answers teloxide maps to
//! the errors herald handles.

use std::fmt::Debug;
use std::time::Duration;

use fake_botapi::{ChatConfig, FakeBotApi, FakeOptions, Fault, Match, Rule, TOKEN};
use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, MessageId,
    ParseMode, Recipient,
};
use teloxide::{ApiError, RequestError};

const CHANNEL: &str = "@herald_test";
const SEND: &str = "sendMessage";

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions::default()).await
}

/// A fake whose rate limits stay out of the way, for tests that send a lot.
async fn unlimited_fake() -> FakeBotApi {
    FakeBotApi::start(unlimited()).await
}

fn unlimited() -> FakeOptions {
    FakeOptions {
        per_chat_per_second: 1000,
        per_chat_per_minute: 1000,
        global_per_second: 1000,
        ..FakeOptions::default()
    }
}

fn channel() -> Recipient {
    Recipient::ChannelUsername(CHANNEL.into())
}

fn keyboard() -> InlineKeyboardMarkup {
    let share = "https://t.me/share/url?url=https%3A%2F%2Fwww.akorda.kz%2Fen%2Fa-1&text=T";
    InlineKeyboardMarkup::new([[
        InlineKeyboardButton::url("Read", "https://www.akorda.kz/en/a-1".parse().unwrap()),
        InlineKeyboardButton::url("Share", share.parse().unwrap()),
    ]])
}

/// The `ApiError` of a failed call.
fn api_error<T: Debug>(result: Result<T, RequestError>) -> ApiError {
    match result {
        Err(RequestError::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw JSON call; returns the status and the body.
async fn call(fake: &FakeBotApi, method: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/bot{TOKEN}/{method}", fake.url());
    let response = reqwest::Client::new().post(url).json(&body).send().await;
    let response = response.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn status(fake: &FakeBotApi, method: &str, body: Value) -> u16 {
    call(fake, method, body).await.0
}

/// The description of a refused call, asserting its status.
async fn refused(fake: &FakeBotApi, method: &str, body: Value, status: u16) -> String {
    let (got, answer) = call(fake, method, body).await;
    assert_eq!(got, status, "{answer}");
    assert_eq!(
        (&answer["ok"], &answer["error_code"]),
        (&json!(false), &json!(status))
    );
    answer["description"].as_str().unwrap().to_owned()
}

/// sendMessage parameters: `text` as HTML to the test channel.
fn html(text: &str) -> Value {
    json!({ "chat_id": CHANNEL, "text": text, "parse_mode": "HTML" })
}

// ---- real teloxide ------------------------------------------------------------------------

#[tokio::test]
async fn teloxide_send_message_with_html_keyboard_and_preview_is_recorded() {
    let fake = fake().await;
    let preview = LinkPreviewOptions {
        is_disabled: false,
        url: Some("https://www.akorda.kz/en/a-1".into()),
        prefer_small_media: false,
        prefer_large_media: true,
        show_above_text: false,
    };
    let text = "<b>Title</b>\nSummary &amp; more 😀 #akorda_en";
    let msg = fake
        .bot()
        .send_message(channel(), text)
        .parse_mode(ParseMode::Html);
    let msg = msg
        .reply_markup(keyboard())
        .link_preview_options(preview)
        .await
        .unwrap();
    assert_eq!(msg.id, MessageId(1));
    assert_eq!(msg.text(), Some("Title\nSummary & more 😀 #akorda_en"));
    assert_eq!(msg.entities().unwrap().len(), 1);
    assert_eq!(msg.reply_markup().unwrap().inline_keyboard[0].len(), 2);

    let sent = fake.messages_for(CHANNEL);
    let m = &sent[0];
    assert_eq!((sent.len(), m.method.as_str(), m.message_id), (1, SEND, 1));
    assert_eq!(m.text.as_deref(), Some(text));
    let bold = json!({"type": "bold", "offset": 0, "length": 5});
    assert_eq!(
        (m.entities.as_slice(), m.parse_mode.as_deref()),
        (&[bold][..], Some("HTML"))
    );
    assert_eq!(
        m.link_preview_options.as_ref().unwrap()["prefer_large_media"],
        true
    );
    let buttons = &m.reply_markup.as_ref().unwrap()["inline_keyboard"][0];
    assert_eq!(buttons[0]["url"], "https://www.akorda.kz/en/a-1");
    assert!(!fake.requests()[0].multipart, "sendMessage goes as JSON");
    assert!(fake.violations().is_empty());
}

#[tokio::test]
async fn teloxide_send_photo_by_url_is_multipart_and_recorded() {
    let fake = fake().await;
    let (chat, photo) = (
        -1001234567890_i64,
        "https://www.akorda.kz/uploadMedia/cover.jpg",
    );
    let request = fake
        .bot()
        .send_photo(ChatId(chat), InputFile::url(photo.parse().unwrap()));
    let request = request
        .caption("<b>Title</b> summary")
        .parse_mode(ParseMode::Html);
    let msg = request.reply_markup(keyboard()).await.unwrap();
    assert_eq!(msg.caption(), Some("Title summary"));
    assert!(msg.photo().is_some_and(|sizes| !sizes.is_empty()));
    assert_eq!(msg.chat.id, ChatId(chat));

    let m = &fake.messages_for(chat)[0];
    assert_eq!(m.photo.as_deref(), Some(photo));
    assert_eq!(m.caption.as_deref(), Some("<b>Title</b> summary"));
    // teloxide sends reply_markup as a JSON text field; the fake stores it as JSON.
    let markup = m.reply_markup.as_ref().unwrap();
    assert_eq!(markup["inline_keyboard"][0][0]["text"], "Read");
    let request = &fake.requests()[0];
    assert_eq!(request.method, "sendPhoto");
    assert!(
        request.multipart,
        "teloxide sends sendPhoto as multipart even with a URL"
    );
}

#[tokio::test]
async fn teloxide_edit_message_text_updates_the_record() {
    let fake = unlimited_fake().await;
    let bot = fake.bot();
    let chat = ChatId(-100777);
    let msg = bot
        .send_message(chat, "<b>Old</b> title")
        .parse_mode(ParseMode::Html);
    let msg = msg.reply_markup(keyboard()).await.unwrap();
    let edit = || {
        let request = bot.edit_message_text(chat, msg.id, "<b>New</b> title");
        request.parse_mode(ParseMode::Html)
    };
    let edited = edit().reply_markup(keyboard()).await.unwrap();
    assert_eq!(edited.text(), Some("New title"));
    assert_eq!(fake.edits().len(), 1);
    let m = &fake.messages_for(-100777)[0];
    assert_eq!((m.plain.as_str(), m.edit_count), ("New title", 1));

    // The same edit again is refused the way teloxide recognises.
    let again = edit().reply_markup(keyboard()).await;
    assert_eq!(api_error(again), ApiError::MessageNotModified);
    // Telegram drops the keyboard of an edit that does not resend it: that is a change.
    edit().await.unwrap();
    assert!(fake.messages()[0].reply_markup.is_none());
    let missing = bot.edit_message_text(chat, MessageId(99), "x").await;
    assert_eq!(api_error(missing), ApiError::MessageToEditNotFound);
    // A post a channel admin deleted cannot be edited either.
    assert!(fake.delete_message(-100777, msg.id.0.into()));
    let deleted = bot.edit_message_text(chat, msg.id, "y").await;
    assert_eq!(api_error(deleted), ApiError::MessageToEditNotFound);
}

#[tokio::test]
async fn teloxide_service_calls_and_long_polling_work() {
    let fake = fake().await;
    let bot = fake.bot();
    assert_eq!(bot.get_me().await.unwrap().username(), "herald_test_bot");
    bot.delete_webhook().await.unwrap();
    assert!(bot.get_webhook_info().await.unwrap().url.is_none());
    let commands = [teloxide::types::BotCommand::new("status", "Show status")];
    bot.set_my_commands(commands).await.unwrap();
    let typing = teloxide::types::ChatAction::Typing;
    bot.send_chat_action(channel(), typing).await.unwrap();

    let poll = tokio::spawn(async move { bot.get_updates().timeout(5).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!poll.is_finished(), "getUpdates waits for an update");
    let id = fake.push_update(json!({ "message": {
        "message_id": 1, "date": 1_700_000_000, "text": "/status",
        "chat": { "id": 42, "type": "private", "first_name": "Admin" },
        "from": { "id": 42, "is_bot": false, "first_name": "Admin" },
    }}));
    let updates = tokio::time::timeout(Duration::from_secs(2), poll).await;
    let updates = updates
        .expect("the pushed update ends the long poll")
        .unwrap()
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(i64::from(updates[0].id.0), id);
}

#[tokio::test]
async fn uploaded_photos_arrive_as_file_parts() {
    let fake = fake().await;
    let file = InputFile::memory(vec![0xFF_u8; 2048]).file_name("cover.jpg");
    let msg = fake
        .bot()
        .send_photo(ChatId(-1009), file)
        .caption("c")
        .await
        .unwrap();
    assert_eq!(msg.caption(), Some("c"));
    let photo = fake.messages()[0].photo.clone();
    assert_eq!(photo.as_deref(), Some("upload:cover.jpg (2048 bytes)"));
    // teloxide names the part with a random id and sends `photo=attach://<id>`.
    let params = &fake.requests()[0].params;
    assert!(params["photo"].as_str().unwrap().starts_with("attach://"));
}

// ---- the schema ---------------------------------------------------------------------------

#[tokio::test]
async fn schema_violations_are_refused_saying_what_is_wrong() {
    let fake = fake().await;
    let with = |key: &str, value: Value| {
        let mut body = html("x");
        body[key] = value;
        body
    };
    let typo = json!({ "inline_keyboard": [[{ "text": "Read", "urll": "https://a.b/" }]] });
    let cases = [
        (with("parse_mod", json!("HTML")), "unknown field parse_mod"),
        (
            with("reply_markup", typo),
            "unknown field reply_markup.inline_keyboard[0][0].urll",
        ),
        (
            json!({ "chat_id": CHANNEL }),
            "required field text is missing",
        ),
        (
            with("disable_notification", json!("yes")),
            "field disable_notification must be Boolean, got a string",
        ),
        (
            with("chat_id", json!([1])),
            "field chat_id must be Integer or String, got an array",
        ),
        (
            with("link_preview_options", json!({ "is_disabled": 1 })),
            "field link_preview_options.is_disabled must be Boolean, got an integer",
        ),
    ];
    for (body, expected) in cases {
        let description = refused(&fake, SEND, body, 400).await;
        assert_eq!(description, format!("Bad Request: {expected}"));
    }
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn form_bodies_carry_json_in_non_string_fields() {
    let fake = fake().await;
    let markup = json!({ "inline_keyboard": [[{ "text": "Read", "url": "https://a.example/" }]] });
    let form = [
        ("chat_id", "-100555".to_owned()),
        ("text", "123".to_owned()),
        ("disable_notification", "true".to_owned()),
        ("reply_markup", markup.to_string()),
    ];
    let url = format!("{}/bot{TOKEN}/sendMessage", fake.url());
    let response = reqwest::Client::new().post(url).form(&form).send().await;
    assert_eq!(response.unwrap().status(), 200);
    let m = &fake.messages_for(-100555)[0];
    assert_eq!(m.text.as_deref(), Some("123"), "a String field stays text");
    assert_eq!(m.reply_markup.as_ref(), Some(&markup));
}

#[tokio::test]
async fn method_names_match_case_insensitively_and_unknown_ones_are_404() {
    let fake = unlimited_fake().await;
    for method in ["sendMessage", "SendMessage", "SENDMESSAGE", "sendmessage"] {
        let (status, answer) = call(&fake, method, html("hi")).await;
        assert_eq!(status, 200, "{method}: {answer}");
    }
    assert_eq!(
        fake.requests()[1].method,
        SEND,
        "recorded by canonical name"
    );
    let get = reqwest::get(format!("{}/bot{TOKEN}/getme?unused=1", fake.url())).await;
    let answer: Value = get.unwrap().json().await.unwrap();
    assert_eq!(
        answer["error_code"], 400,
        "GET works; query parameters are checked too"
    );
    let description = refused(&fake, "sendMesage", html("hi"), 404).await;
    assert_eq!(description, "Not Found: method not found");
}

#[tokio::test]
async fn a_wrong_token_is_401_and_teloxide_calls_it_an_invalid_token() {
    let fake = fake().await;
    let url = format!("{}/bot123456:WRONG/getMe", fake.url());
    let response = reqwest::Client::new().post(url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let bot = Bot::new("123456:WRONG").set_api_url(fake.url().parse().unwrap());
    assert_eq!(api_error(bot.get_me().await), ApiError::InvalidToken);
}

#[tokio::test]
async fn configured_chats_unify_name_and_id_and_others_are_not_found() {
    let fake = FakeBotApi::start(FakeOptions {
        chats: vec![ChatConfig::channel(-1001111111111, "akorda_news_en")],
        only_configured_chats: true,
        ..unlimited()
    })
    .await;
    let bot = fake.bot();
    let by_name = Recipient::ChannelUsername("@Akorda_News_En".into());
    bot.send_message(by_name, "a").await.unwrap();
    let by_id = bot.send_message(ChatId(-1001111111111), "b").await.unwrap();
    assert_eq!(by_id.id, MessageId(2), "one chat, one message counter");
    assert_eq!(fake.messages_for("@akorda_news_en").len(), 2);
    let unknown = bot.send_message(ChatId(-1002), "c").await;
    assert_eq!(api_error(unknown), ApiError::ChatNotFound);
}

// ---- HTML and limits ----------------------------------------------------------------------

#[tokio::test]
async fn bad_html_is_refused_with_the_byte_offset() {
    let fake = unlimited_fake().await;
    let cases = [
        (
            "<b>unclosed",
            r#"Can't find end tag corresponding to start tag "b""#,
            0,
        ),
        ("ok <div>x</div>", r#"Unsupported start tag "div""#, 3),
        ("Tom & Jerry", r#"Bare "&" must be written as "&amp;""#, 4),
        ("a&nbsp;b", r#"Unsupported HTML entity "&nbsp;""#, 1),
        ("1 < 2", r#"Bare "<" must be written as "&lt;""#, 2),
        (
            "<b><i>x</b></i>",
            r#"Unmatched end tag "</b>", expected "</i>""#,
            7,
        ),
        (
            "<span>x</span>",
            r#"Tag "span" must have class "tg-spoiler""#,
            0,
        ),
        (r#"<a href="https://a.b/?x=1&y=2">l</a>"#, r#"Bare "&""#, 25),
        (
            r#"<a href="https://a.b/" target="_blank">l</a>"#,
            "Unsupported attribute",
            0,
        ),
        (
            r#"<code class="language-rust">x</code>"#,
            "for standalone code tags",
            0,
        ),
        (
            "<pre>a <b>b</b></pre>",
            r#"Tag "b" can't be nested inside "pre""#,
            7,
        ),
        ("é <b", "Unclosed start tag", 3),
    ];
    for (text, reason, offset) in cases {
        let d = refused(&fake, SEND, html(text), 400).await;
        assert!(
            d.starts_with("Bad Request: can't parse entities: ")
                && d.contains(reason)
                && d.ends_with(&format!(" at byte offset {offset}")),
            "{text:?}: {d}"
        );
    }
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn every_documented_tag_and_entity_is_accepted() {
    let fake = fake().await;
    let text = "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>\
        <strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler><span class=\"tg-spoiler\">q</span>\
        <a href=\"https://a.example/?x=1&amp;y=2\">l</a><code>c</code>\
        <pre><code class=\"language-rust\">fn</code></pre><blockquote expandable>q</blockquote>\
        <tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji> &lt;&gt;&amp;&quot;&#65;&#x42; >";
    let (status, answer) = call(&fake, SEND, html(text)).await;
    assert_eq!(status, 200, "{answer}");
    let m = &fake.messages()[0];
    assert_eq!(m.plain, "bsieunskdpqlcfnq👍 <>&\"AB >");
    let entity = |kind: &str| m.entities.iter().find(|e| e["type"] == kind).cloned();
    assert_eq!(m.entities.len(), 16);
    assert!(entity("expandable_blockquote").is_some() && entity("custom_emoji").is_some());
    assert_eq!(
        entity("text_link").unwrap()["url"],
        "https://a.example/?x=1&y=2"
    );
    assert_eq!(entity("pre").unwrap()["language"], "rust");
}

#[tokio::test]
async fn lengths_are_counted_in_utf16_after_entity_parsing() {
    let fake = unlimited_fake().await;
    let photo = |caption: String| {
        json!({ "chat_id": CHANNEL, "photo": "https://a.example/p.jpg",
                "caption": caption, "parse_mode": "HTML" })
    };
    // 1000 + 12 emoji × 2 units = 1024: exactly the limit; the tags do not count.
    let at_limit = format!("<b>{}</b>{}", "a".repeat(1000), "😀".repeat(12));
    assert_eq!(status(&fake, "sendPhoto", photo(at_limit)).await, 200);
    // 1013 characters, but 1026 UTF-16 units.
    let over = format!("{}{}", "a".repeat(1000), "😀".repeat(13));
    let d = refused(&fake, "sendPhoto", photo(over), 400).await;
    assert_eq!(d, "Bad Request: message caption is too long");

    assert_eq!(status(&fake, SEND, html(&"x".repeat(4096))).await, 200);
    let d = refused(&fake, SEND, html(&"x".repeat(4097)), 400).await;
    assert_eq!(d, "Bad Request: message is too long");
    let d = refused(&fake, SEND, html("<b> </b>\n"), 400).await;
    assert_eq!(d, "Bad Request: message text is empty");
}

#[tokio::test]
async fn more_than_100_entities_are_refused() {
    let fake = unlimited_fake().await;
    assert_eq!(
        status(&fake, SEND, html(&"<b>x</b> ".repeat(100))).await,
        200
    );
    let d = refused(&fake, SEND, html(&"<b>x</b> ".repeat(101)), 400).await;
    assert!(d.contains("too many message entities: 101"), "{d}");
}

#[tokio::test]
async fn inline_keyboard_buttons_are_checked() {
    let fake = unlimited_fake().await;
    let with_button = |button: Value| {
        let mut body = html("x");
        body["reply_markup"] = json!({ "inline_keyboard": [[button]] });
        body
    };
    let long = format!("https://a.example/?q={}", "x".repeat(3000));
    let bad = [
        (
            json!({ "text": "Read", "url": "ftp://a.example/" }),
            "BUTTON_URL_INVALID",
        ),
        (
            json!({ "text": "Read", "url": "www.akorda.kz" }),
            "BUTTON_URL_INVALID",
        ),
        (json!({ "text": "Read", "url": long }), "BUTTON_URL_INVALID"),
        (
            json!({ "text": "", "url": "https://a.example/" }),
            "text must be non-empty",
        ),
        (json!({ "text": "Read" }), "Text buttons are unallowed"),
    ];
    for (button, expected) in bad {
        let d = refused(&fake, SEND, with_button(button.clone()), 400).await;
        assert!(d.contains(expected), "{button}: {d}");
    }
    let tg = json!({ "text": "Open", "url": "tg://resolve?domain=akorda" });
    assert_eq!(status(&fake, SEND, with_button(tg)).await, 200);
}

// ---- rate limits --------------------------------------------------------------------------

#[tokio::test]
async fn a_second_message_within_a_second_is_429_and_a_violation() {
    let fake = fake().await;
    assert_eq!(status(&fake, SEND, html("one")).await, 200);
    let (code, answer) = call(&fake, SEND, html("two")).await;
    assert_eq!(
        (code, &answer["parameters"]["retry_after"]),
        (429, &json!(1))
    );
    assert_eq!(answer["description"], "Too Many Requests: retry after 1");
    // Another chat is not affected.
    let other = json!({ "chat_id": "@other_channel", "text": "x" });
    assert_eq!(status(&fake, SEND, other).await, 200);
    // Any call for the blocked chat, edits too, before retry_after is another violation.
    let edit = json!({ "chat_id": CHANNEL, "message_id": 1, "text": "edited" });
    assert_eq!(status(&fake, "editMessageText", edit).await, 429);
    let rules: Vec<Rule> = fake.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, [Rule::PerChatPerSecond, Rule::DuringRetryAfter]);
    assert_eq!(fake.violations()[0].chat, CHANNEL);

    // A client that waits is served and breaks nothing.
    fake.clear();
    status(&fake, SEND, html("one")).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(status(&fake, SEND, html("two")).await, 200);
    assert!(fake.violations().is_empty());
}

#[tokio::test]
async fn per_minute_and_global_limits_are_enforced() {
    let fake = FakeBotApi::start(FakeOptions {
        per_chat_per_second: 100,
        per_chat_per_minute: 2,
        global_per_second: 3,
        ..FakeOptions::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(status(&fake, SEND, html("m")).await, 200);
    }
    let (code, answer) = call(&fake, SEND, html("m")).await;
    let retry = answer["parameters"]["retry_after"].as_u64().unwrap();
    assert!(code == 429 && (59..=60).contains(&retry), "{answer}");
    let to = |chat: &str| json!({ "chat_id": chat, "text": "g" });
    assert_eq!(status(&fake, SEND, to("@second_channel")).await, 200);
    assert_eq!(status(&fake, SEND, to("@third_channel")).await, 429);
    let rules: Vec<Rule> = fake.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, [Rule::PerChatPerMinute, Rule::GlobalPerSecond]);
}

#[tokio::test]
async fn teloxide_throttle_spaces_sends_but_not_edits() {
    use teloxide::adaptors::throttle::Limits;
    let fake = fake().await;
    let bot = fake.bot().throttle(Limits::default());
    bot.send_message(channel(), "one").await.unwrap();
    bot.send_message(channel(), "two").await.unwrap();
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    // Throttle passes edits straight through: herald must pace them itself.
    let edit = bot
        .edit_message_text(channel(), MessageId(1), "edited")
        .await;
    assert!(matches!(edit, Err(RequestError::RetryAfter(_))));
    assert_eq!(fake.violations()[0].rule, Rule::PerChatPerSecond);
}

// ---- faults as teloxide sees them -----------------------------------------------------------

#[tokio::test]
async fn injected_errors_map_to_teloxide_errors() {
    let fake = unlimited_fake().await;
    let bot = fake.bot();
    let send = || bot.send_message(channel(), "x");
    let when = || Match::any().method("sendMessage");

    fake.inject(Fault::TooManyRequests(7), when());
    let retry = send().await;
    assert!(matches!(retry, Err(RequestError::RetryAfter(s)) if s.seconds() == 7));
    fake.inject(Fault::Migrate(-100999), when());
    let migrated = send().await;
    assert!(matches!(
        migrated,
        Err(RequestError::MigrateToChatId(ChatId(-100999)))
    ));
    fake.inject(Fault::Forbidden, when().chat("@other_channel"));
    fake.inject(Fault::ChatNotFound, when().chat("@other_channel"));
    let other = || bot.send_message(Recipient::ChannelUsername("@other_channel".into()), "x");
    assert_eq!(api_error(other().await), ApiError::BotKickedFromChannel);
    assert_eq!(api_error(other().await), ApiError::ChatNotFound);
    assert_eq!(
        other().await.unwrap().id,
        MessageId(1),
        "faults are used up"
    );

    // After the injected 429, the channel stays blocked: calling now is a violation.
    assert!(matches!(send().await, Err(RequestError::RetryAfter(_))));
    assert_eq!(fake.violations()[0].rule, Rule::DuringRetryAfter);
}

#[tokio::test]
async fn accept_then_drop_records_the_message_but_teloxide_sees_a_network_error() {
    let fake = unlimited_fake().await;
    let bot = fake.bot();
    fake.inject(Fault::AcceptThenDrop, Match::any().method("sendMessage"));
    let result = bot
        .send_message(ChatId(-100321), "<b>once</b>")
        .parse_mode(ParseMode::Html);
    let result = result.await;
    assert!(
        matches!(result, Err(RequestError::Network(_))),
        "{result:?}"
    );
    assert_eq!(fake.messages().len(), 1, "Telegram did accept it");
    assert!(fake.requests()[0].dropped);
    // The next call is answered normally (on a new connection).
    let next = bot.send_message(ChatId(-100321), "two").await.unwrap();
    assert_eq!(next.id, MessageId(2));
}

#[tokio::test]
async fn photo_rejection_server_errors_delays_and_downtime() {
    let fake = unlimited_fake().await;
    let bot = fake.bot();
    fake.inject(Fault::PhotoRejected, Match::any().times(2));
    bot.send_message(ChatId(-1001), "text is not a photo")
        .await
        .unwrap();
    let photo = InputFile::url("https://a.example/p.html".parse().unwrap());
    let rejected = api_error(bot.send_photo(ChatId(-1001), photo).await);
    let description = "Bad Request: wrong type of the web page content";
    assert_eq!(rejected, ApiError::Unknown(description.into()));

    // 5xx through raw HTTP: teloxide itself sleeps 10 s on a 5xx before returning.
    fake.inject(Fault::ServerError(502), Match::any().method("sendMessage"));
    assert_eq!(refused(&fake, SEND, html("x"), 502).await, "Bad Gateway");

    fake.inject(Fault::Delay(Duration::from_millis(800)), Match::any());
    let url = format!("{}/bot{TOKEN}/sendMessage", fake.url());
    let request = reqwest::Client::new().post(url).json(&html("late"));
    let timed_out = request.timeout(Duration::from_millis(200)).send().await;
    assert!(timed_out.unwrap_err().is_timeout());
    let last = fake.messages().pop().unwrap();
    assert_eq!(last.plain, "late", "accepted, answered late");

    fake.set_down(true);
    assert!(matches!(bot.get_me().await, Err(RequestError::Network(_))));
    fake.set_down(false);
    bot.get_me().await.unwrap();
}
