//! Any bytes as an index.php or aibot.php body: the parsers must not panic, and whatever they
//! accept must render to a call file made only of the fixed keys, one value per line.
#![no_main]

use apicall_request::aibot::{AibotRequest, Step};
use apicall_request::callfile::CallFile;
use apicall_request::originate::OriginateRequest;
use libfuzzer_sys::fuzz_target;

const DIAL_CONTEXT: &str = "from-internal";

const KEYS: [&str; 10] = [
    "Channel", "CallerID", "MaxRetries", "RetryTime", "WaitTime", "Context", "Extension", "Priority", "Setvar", "Archive",
];

fn check(file: &CallFile) {
    let text = file.render().expect("accepted values always render");
    for line in text.lines() {
        let (key, value) = line.split_once(": ").expect("key: value");
        assert!(KEYS.contains(&key), "unexpected line {line:?}");
        assert!(!value.chars().any(char::is_control), "control character in {line:?}");
    }
    assert_eq!(text.matches('\n').count(), text.lines().count());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = OriginateRequest::parse(data, "it", "999") {
        let f = CallFile::for_message(
            "ab12",
            &r.tocall,
            DIAL_CONTEXT,
            r.callerid.clone(),
            (r.max_retries, r.retry_time, r.wait_time),
            Some(std::path::Path::new("/var/lib/asterisk/sounds/apicall/tts/x")),
            &r.destination,
        )
        .expect("a valid request makes a call file");
        check(&f);
    }
    if let Ok(r) = AibotRequest::parse(data, "it", "999") {
        check(&CallFile::for_aibot("ab12", &r.phone_number, DIAL_CONTEXT, r.callerid.clone(), (r.max_retries, r.retry_time, r.wait_time)));
        // The same bytes as a webhook reply.
        let _ = Step::parse_reply(data, &r.step);
    }
});
