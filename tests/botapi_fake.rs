//! Self-tests of the fake Bot API (`tests/common/botapi.rs`): real teloxide requests are accepted
//! and recorded, and everything Telegram refuses is refused, with the answers teloxide maps to
//! the errors herald handles.

#[path = "common/botapi.rs"]
mod botapi;

use std::time::Duration;

use botapi::{ChatConfig, FakeBotApi, FakeOptions, Fault, Match, Rule, TOKEN};
use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, MessageId,
    ParseMode, Recipient,
};
use teloxide::{ApiError, RequestError};

const CHANNEL: &str = "@herald_test";

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions::default()).await
}

/// Options without rate limits in the way, for tests that send a lot.
fn unlimited() -> FakeOptions {
    FakeOptions {
        per_chat_per_second: 1000,
        per_chat_per_minute: 1000,
        global_per_second: 1000,
        ..FakeOptions::default()
    }
}

fn keyboard() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
        InlineKeyboardButton::url("Read", "https://www.akorda.kz/en/a-1".parse().unwrap()),
        InlineKeyboardButton::url(
            "Share",
            "https://t.me/share/url?url=https%3A%2F%2Fwww.akorda.kz%2Fen%2Fa-1&text=T"
                .parse()
                .unwrap(),
        ),
    ]])
}

/// A raw JSON call; returns the status and the body.
async fn call(fake: &FakeBotApi, method: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/bot{TOKEN}/{method}", fake.url());
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The description of a refused call, asserting its status.
async fn refused(fake: &FakeBotApi, method: &str, body: Value, status: u16) -> String {
    let (got, answer) = call(fake, method, body).await;
    assert_eq!(got, status, "{answer}");
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error_code"], status);
    answer["description"].as_str().unwrap().to_owned()
}

fn text_message(text: &str) -> Value {
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
    let msg = fake
        .bot()
        .send_message(
            Recipient::ChannelUsername(CHANNEL.into()),
            "<b>Title</b>\nSummary &amp; more 😀 #akorda_en",
        )
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard())
        .link_preview_options(preview)
        .await
        .unwrap();
    assert_eq!(msg.id, MessageId(1));
    assert_eq!(msg.text(), Some("Title\nSummary & more 😀 #akorda_en"));
    assert_eq!(msg.entities().unwrap().len(), 1);
    assert_eq!(msg.reply_markup().unwrap().inline_keyboard[0].len(), 2);

    let sent = fake.messages_for(CHANNEL);
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!((m.method.as_str(), m.message_id), ("sendMessage", 1));
    assert_eq!(
        m.text.as_deref(),
        Some("<b>Title</b>\nSummary &amp; more 😀 #akorda_en")
    );
    assert_eq!(
        m.entities,
        [json!({"type": "bold", "offset": 0, "length": 5})]
    );
    assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
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
    let photo = "https://www.akorda.kz/uploadMedia/cover.jpg";
    let msg = fake
        .bot()
        .send_photo(
            ChatId(-1001234567890),
            InputFile::url(photo.parse().unwrap()),
        )
        .caption("<b>Title</b> summary")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard())
        .await
        .unwrap();
    assert_eq!(msg.caption(), Some("Title summary"));
    assert!(msg.photo().is_some_and(|sizes| !sizes.is_empty()));
    assert_eq!(msg.chat.id, ChatId(-1001234567890));

    let m = &fake.messages_for(-1001234567890)[0];
    assert_eq!(m.photo.as_deref(), Some(photo));
    assert_eq!(m.caption.as_deref(), Some("<b>Title</b> summary"));
    // teloxide sends reply_markup as a JSON text field; the fake stores it as JSON.
    assert_eq!(
        m.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["text"],
        "Read"
    );
    let request = &fake.requests()[0];
    assert_eq!(request.method, "sendPhoto");
    assert!(
        request.multipart,
        "teloxide sends sendPhoto as multipart even with a URL"
    );
}

#[tokio::test]
async fn teloxide_edit_message_text_updates_the_record() {
    let fake = FakeBotApi::start(unlimited()).await;
    let bot = fake.bot();
    let chat = ChatId(-100777);
    let msg = bot
        .send_message(chat, "<b>Old</b> title")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard())
        .await
        .unwrap();
    let edited = bot
        .edit_message_text(chat, msg.id, "<b>New</b> title")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard())
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("New title"));
    assert_eq!(fake.edits().len(), 1);
    let m = &fake.messages_for(-100777)[0];
    assert_eq!((m.plain.as_str(), m.edit_count), ("New title", 1));

    // The same edit again is refused the way teloxide recognises.
    let again = bot
        .edit_message_text(chat, msg.id, "<b>New</b> title")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard())
        .await;
    assert!(matches!(
        again,
        Err(RequestError::Api(ApiError::MessageNotModified))
    ));
    // Telegram drops the keyboard of an edit that does not resend it: that is a change.
    bot.edit_message_text(chat, msg.id, "<b>New</b> title")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert!(fake.messages()[0].reply_markup.is_none());
    let missing = bot.edit_message_text(chat, MessageId(99), "x").await;
    assert!(matches!(
        missing,
        Err(RequestError::Api(ApiError::MessageToEditNotFound))
    ));
    // A post a channel admin deleted cannot be edited either.
    assert!(fake.delete_message(-100777, msg.id.0.into()));
    let deleted = bot.edit_message_text(chat, msg.id, "y").await;
    assert!(matches!(
        deleted,
        Err(RequestError::Api(ApiError::MessageToEditNotFound))
    ));
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

    let poll = tokio::spawn(async move { bot.get_updates().timeout(5).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!poll.is_finished(), "getUpdates waits for an update");
    let id = fake.push_update(json!({ "message": {
        "message_id": 1, "date": 1_700_000_000, "text": "/status",
        "chat": { "id": 42, "type": "private", "first_name": "Admin" },
        "from": { "id": 42, "is_bot": false, "first_name": "Admin" },
    }}));
    let updates = tokio::time::timeout(Duration::from_secs(2), poll)
        .await
        .expect("the pushed update ends the long poll")
        .unwrap()
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(i64::from(updates[0].id.0), id);
}

// ---- the schema ---------------------------------------------------------------------------

#[tokio::test]
async fn unknown_fields_are_refused_even_nested() {
    let fake = fake().await;
    let mut body = text_message("x");
    body["parse_mod"] = json!("HTML");
    let d = refused(&fake, "sendMessage", body, 400).await;
    assert_eq!(d, "Bad Request: unknown field parse_mod");

    let mut body = text_message("x");
    body["reply_markup"] =
        json!({ "inline_keyboard": [[{ "text": "Read", "urll": "https://a.b/" }]] });
    let d = refused(&fake, "sendMessage", body, 400).await;
    assert_eq!(
        d,
        "Bad Request: unknown field reply_markup.inline_keyboard[0][0].urll"
    );
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn missing_required_fields_and_wrong_types_are_refused() {
    let fake = fake().await;
    let d = refused(&fake, "sendMessage", json!({ "chat_id": CHANNEL }), 400).await;
    assert_eq!(d, "Bad Request: required field text is missing");

    let mut body = text_message("x");
    body["disable_notification"] = json!("yes");
    let d = refused(&fake, "sendMessage", body, 400).await;
    assert_eq!(
        d,
        "Bad Request: field disable_notification must be Boolean, got a string"
    );

    let d = refused(
        &fake,
        "sendMessage",
        json!({ "chat_id": [1], "text": "x" }),
        400,
    )
    .await;
    assert_eq!(
        d,
        "Bad Request: field chat_id must be Integer or String, got an array"
    );

    let mut body = text_message("x");
    body["link_preview_options"] = json!({ "is_disabled": 1 });
    let d = refused(&fake, "sendMessage", body, 400).await;
    assert!(
        d.contains("link_preview_options.is_disabled must be Boolean"),
        "{d}"
    );
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
    let response = reqwest::Client::new()
        .post(format!("{}/bot{TOKEN}/sendMessage", fake.url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let m = &fake.messages_for(-100555)[0];
    assert_eq!(m.text.as_deref(), Some("123"), "a String field stays text");
    assert_eq!(m.reply_markup.as_ref(), Some(&markup));
}

#[tokio::test]
async fn method_names_match_case_insensitively_and_unknown_ones_are_404() {
    let fake = FakeBotApi::start(unlimited()).await;
    for method in ["sendMessage", "SendMessage", "SENDMESSAGE", "sendmessage"] {
        let (status, answer) = call(&fake, method, text_message("hi")).await;
        assert_eq!(status, 200, "{method}: {answer}");
    }
    let d = refused(&fake, "sendMesage", text_message("hi"), 404).await;
    assert_eq!(d, "Not Found: method not found");
    assert_eq!(
        fake.requests()[1].method,
        "sendMessage",
        "recorded by canonical name"
    );
}

#[tokio::test]
async fn a_wrong_token_is_401_and_teloxide_calls_it_an_invalid_token() {
    let fake = fake().await;
    let response = reqwest::Client::new()
        .post(format!("{}/bot123456:WRONG/getMe", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let bot = Bot::new("123456:WRONG").set_api_url(fake.url().parse().unwrap());
    let result = bot.get_me().await;
    assert!(matches!(
        result,
        Err(RequestError::Api(ApiError::InvalidToken))
    ));
}

// ---- HTML and limits ----------------------------------------------------------------------

#[tokio::test]
async fn bad_html_is_refused_with_the_byte_offset() {
    let fake = FakeBotApi::start(unlimited()).await;
    let cases = [
        (
            "<b>unclosed",
            "Can't find end tag corresponding to start tag \"b\"",
            0,
        ),
        ("ok <div>x</div>", "Unsupported start tag \"div\"", 3),
        ("Tom & Jerry", "Bare \"&\" must be written as \"&amp;\"", 4),
        ("a&nbsp;b", "Unsupported HTML entity \"&nbsp;\"", 1),
        ("1 < 2", "Bare \"<\" must be written as \"&lt;\"", 2),
        (
            "<b><i>x</b></i>",
            "Unmatched end tag \"</b>\", expected \"</i>\"",
            7,
        ),
        (
            "<span>x</span>",
            "Tag \"span\" must have class \"tg-spoiler\"",
            0,
        ),
        ("<a href=\"https://a.b/?x=1&y=2\">l</a>", "Bare \"&\"", 25),
        (
            "<a href=\"https://a.b/\" target=\"_blank\">l</a>",
            "Unsupported attribute",
            0,
        ),
        (
            "<code class=\"language-rust\">x</code>",
            "can't be specified for standalone",
            0,
        ),
        (
            "<pre>a <b>b</b></pre>",
            "Tag \"b\" can't be nested inside \"pre\"",
            7,
        ),
        ("é <b", "Unclosed start tag", 3),
    ];
    for (text, reason, offset) in cases {
        let d = refused(&fake, "sendMessage", text_message(text), 400).await;
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
    let (status, answer) = call(&fake, "sendMessage", text_message(text)).await;
    assert_eq!(status, 200, "{answer}");
    let m = &fake.messages()[0];
    assert_eq!(m.plain, "bsieunskdpqlcfnq👍 <>&\"AB >");
    let kinds: Vec<&str> = m
        .entities
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 16);
    assert!(kinds.contains(&"expandable_blockquote") && kinds.contains(&"custom_emoji"));
    let link = m
        .entities
        .iter()
        .find(|e| e["type"] == "text_link")
        .unwrap();
    assert_eq!(link["url"], "https://a.example/?x=1&y=2");
    let pre = m.entities.iter().find(|e| e["type"] == "pre").unwrap();
    assert_eq!(pre["language"], "rust");
}

#[tokio::test]
async fn captions_are_counted_in_utf16_after_entity_parsing() {
    let fake = FakeBotApi::start(unlimited()).await;
    let photo = |caption: String| {
        json!({ "chat_id": CHANNEL, "photo": "https://a.example/p.jpg",
                "caption": caption, "parse_mode": "HTML" })
    };
    // 1000 + 12 emoji × 2 units = 1024: exactly the limit; the tags do not count.
    let at_limit = format!("<b>{}</b>{}", "a".repeat(1000), "😀".repeat(12));
    assert_eq!(call(&fake, "sendPhoto", photo(at_limit)).await.0, 200);
    // 1013 characters, but 1026 UTF-16 units.
    let over = format!("{}{}", "a".repeat(1000), "😀".repeat(13));
    let d = refused(&fake, "sendPhoto", photo(over), 400).await;
    assert_eq!(d, "Bad Request: message caption is too long");

    assert_eq!(
        call(&fake, "sendMessage", text_message(&"x".repeat(4096)))
            .await
            .0,
        200
    );
    let d = refused(&fake, "sendMessage", text_message(&"x".repeat(4097)), 400).await;
    assert_eq!(d, "Bad Request: message is too long");
    let d = refused(&fake, "sendMessage", text_message("<b> </b>\n"), 400).await;
    assert_eq!(d, "Bad Request: message text is empty");
}

#[tokio::test]
async fn more_than_100_entities_are_refused() {
    let fake = FakeBotApi::start(unlimited()).await;
    assert_eq!(
        call(&fake, "sendMessage", text_message(&"<b>x</b> ".repeat(100)))
            .await
            .0,
        200
    );
    let d = refused(
        &fake,
        "sendMessage",
        text_message(&"<b>x</b> ".repeat(101)),
        400,
    )
    .await;
    assert!(d.contains("too many message entities: 101"), "{d}");
}

#[tokio::test]
async fn inline_keyboard_buttons_are_checked() {
    let fake = FakeBotApi::start(unlimited()).await;
    let with_button = |button: Value| {
        let mut body = text_message("x");
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
        let d = refused(&fake, "sendMessage", with_button(button.clone()), 400).await;
        assert!(d.contains(expected), "{button}: {d}");
    }
    let tg = json!({ "text": "Open", "url": "tg://resolve?domain=akorda" });
    assert_eq!(call(&fake, "sendMessage", with_button(tg)).await.0, 200);
}

// ---- rate limits --------------------------------------------------------------------------

#[tokio::test]
async fn a_second_message_within_a_second_is_429_and_a_violation() {
    let fake = fake().await;
    assert_eq!(call(&fake, "sendMessage", text_message("one")).await.0, 200);
    let (status, answer) = call(&fake, "sendMessage", text_message("two")).await;
    assert_eq!(status, 429);
    assert_eq!(answer["parameters"]["retry_after"], 1);
    assert_eq!(answer["description"], "Too Many Requests: retry after 1");
    // Another chat is not affected.
    let other = json!({ "chat_id": "@other_channel", "text": "x" });
    assert_eq!(call(&fake, "sendMessage", other).await.0, 200);
    // Any call for the blocked chat, edits too, before retry_after is another violation.
    let edit = json!({ "chat_id": CHANNEL, "message_id": 1, "text": "edited" });
    assert_eq!(call(&fake, "editMessageText", edit.clone()).await.0, 429);
    let rules: Vec<Rule> = fake.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, [Rule::PerChatPerSecond, Rule::DuringRetryAfter]);
    assert_eq!(fake.violations()[0].chat, CHANNEL);

    // A client that waits is served and breaks nothing.
    fake.clear();
    call(&fake, "sendMessage", text_message("one")).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(call(&fake, "sendMessage", text_message("two")).await.0, 200);
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
        assert_eq!(call(&fake, "sendMessage", text_message("m")).await.0, 200);
    }
    let (status, answer) = call(&fake, "sendMessage", text_message("m")).await;
    assert_eq!(status, 429);
    let retry = answer["parameters"]["retry_after"].as_u64().unwrap();
    assert!((59..=60).contains(&retry), "{retry}");
    let to = |chat: &str| json!({ "chat_id": chat, "text": "g" });
    assert_eq!(
        call(&fake, "sendMessage", to("@second_channel")).await.0,
        200
    );
    assert_eq!(
        call(&fake, "sendMessage", to("@third_channel")).await.0,
        429
    );
    let rules: Vec<Rule> = fake.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, [Rule::PerChatPerMinute, Rule::GlobalPerSecond]);
}

// ---- faults as teloxide sees them -----------------------------------------------------------

#[tokio::test]
async fn injected_errors_map_to_teloxide_errors() {
    let fake = FakeBotApi::start(unlimited()).await;
    let bot = fake.bot();
    let send = || bot.send_message(Recipient::ChannelUsername(CHANNEL.into()), "x");
    let when = || Match::any().method("sendMessage");

    fake.inject(Fault::TooManyRequests(7), when());
    let retry = send().await;
    assert!(matches!(retry, Err(RequestError::RetryAfter(s)) if s.seconds() == 7));
    fake.inject(Fault::Migrate(-100999), when());
    assert!(matches!(
        send().await,
        Err(RequestError::MigrateToChatId(ChatId(-100999)))
    ));
    fake.inject(Fault::Forbidden, when().chat("@other_channel"));
    fake.inject(Fault::ChatNotFound, when().chat("@other_channel"));
    let other = || bot.send_message(Recipient::ChannelUsername("@other_channel".into()), "x");
    let kicked = other().await;
    assert!(matches!(
        kicked,
        Err(RequestError::Api(ApiError::BotKickedFromChannel))
    ));
    let not_found = other().await;
    assert!(matches!(
        not_found,
        Err(RequestError::Api(ApiError::ChatNotFound))
    ));
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
    let fake = FakeBotApi::start(unlimited()).await;
    let bot = fake.bot();
    fake.inject(Fault::AcceptThenDrop, Match::any().method("sendMessage"));
    let result = bot
        .send_message(ChatId(-100321), "<b>once</b>")
        .parse_mode(ParseMode::Html)
        .await;
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
    let fake = FakeBotApi::start(unlimited()).await;
    let bot = fake.bot();
    fake.inject(Fault::PhotoRejected, Match::any().times(2));
    bot.send_message(ChatId(-1001), "text is not a photo")
        .await
        .unwrap();
    let photo = InputFile::url("https://a.example/p.html".parse().unwrap());
    let rejected = bot.send_photo(ChatId(-1001), photo).await;
    assert!(
        matches!(&rejected, Err(RequestError::Api(ApiError::Unknown(d)))
            if d == "Bad Request: wrong type of the web page content"),
        "{rejected:?}"
    );

    // 5xx through raw HTTP: teloxide itself sleeps 10 s on a 5xx before returning.
    fake.inject(Fault::ServerError(502), Match::any().method("sendMessage"));
    let d = refused(&fake, "sendMessage", text_message("x"), 502).await;
    assert_eq!(d, "Bad Gateway");

    fake.inject(Fault::Delay(Duration::from_millis(800)), Match::any());
    let timed_out = reqwest::Client::new()
        .post(format!("{}/bot{TOKEN}/sendMessage", fake.url()))
        .json(&text_message("late"))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(timed_out.unwrap_err().is_timeout());
    assert_eq!(
        fake.messages().last().unwrap().plain,
        "late",
        "accepted, answered late"
    );

    fake.set_down(true);
    assert!(matches!(bot.get_me().await, Err(RequestError::Network(_))));
    fake.set_down(false);
    bot.get_me().await.unwrap();
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
    assert!(matches!(
        unknown,
        Err(RequestError::Api(ApiError::ChatNotFound))
    ));
}
