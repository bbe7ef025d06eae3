//! Review of a follow-up before it is sent (`followup_review = true`): a resolved
//! case's note waits as "awaiting review"; approving sends it (as edited), rejecting
//! withholds it; every decision is in the case's history. Consent, unsubscribe and
//! erasure still stop a follow-up that was approved.

use crate::cases::{case_ids, received_titled, study, survey_folder, text_of, FOLLOW_UP};
use crate::common::{link_in, post_form, received_for, unique, Backend, TestApp};

fn follow_ups(email: &str) -> Vec<Vec<u8>> {
    received_titled(email, &FOLLOW_UP)
}

fn an_analyst_approves_or_rejects_each_follow_up_before_it_is_sent(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("v");
    let [anna, bo, cy, dan] = ["anna", "bo", "cy", "dan"].map(|n| format!("{n}@{d}.example"));
    let team = format!("ops@{d}.example");
    let folder = survey_folder(&app, "study", &team, |f| {
        let toml = std::fs::read_to_string(f.join("survey.toml")).unwrap();
        let toml = toml.replacen("[survey]\n", "[survey]\nfollowup_review = true\n", 1);
        std::fs::write(f.join("survey.toml"), toml).unwrap();
    });
    let people = [
        (anna.as_str(), "Anna Åberg", "en"),
        (bo.as_str(), "Bo Ek", "sv"),
        (cy.as_str(), "Cy Lund", "en"),
        (dan.as_str(), "Dan Berg", "en"),
    ];
    study(&app, &folder, "s", &people);
    let answer = [
        ("problem_1", "Late delivery of the sofa"),
        ("rank_1", "1"),
        ("consent_1", "yes"),
    ];
    let mut invitations = Vec::new();
    for (email, ..) in people {
        let invitation = received_for(email, 1).remove(0);
        let link = link_in(&invitation, &app.base_url);
        assert_eq!(post_form(&app.http(), &link, &answer).0, 200);
        invitations.push(invitation);
    }
    let ids = case_ids(&app, &["--survey", "s"]);
    assert_eq!(ids.len(), 4);
    // Dan asks to be forgotten before his case is resolved.
    app.pds_ok(&["contacts", "erase", &dan]);

    for id in &ids {
        let out = app.pds_ok(&["cases", "resolve", id, "--note", "We changed carriers."]);
        if id == &ids[3] {
            assert!(
                out.contains("the customer did not agree to be contacted"),
                "{out}"
            );
        } else {
            assert!(
                out.contains(&format!("awaits review: pds cases review {id} --approve")),
                "{out}"
            );
            let shown = app.pds_ok(&["cases", "show", id]);
            assert!(
                shown.contains("Case") && shown.contains("followup_awaiting_review"),
                "{shown}"
            );
        }
    }
    app.pds_ok(&["worker", "--once"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        follow_ups(&anna).is_empty(),
        "nothing is sent before review"
    );

    // Cy unsubscribes while the note waits.
    let text = text_of(&invitations[2]);
    let start = text.find(&format!("{}/u/", app.base_url)).unwrap();
    let unsubscribe = text[start..].split_whitespace().next().unwrap();
    assert_eq!(post_form(&app.http(), unsubscribe, &[]).0, 200);

    // Anna's is approved with an edited text; Bo's is rejected over the API.
    let edited = "We changed carriers and refunded your delivery.";
    let out = app.pds_ok(&[
        "cases",
        "review",
        &ids[0],
        "--approve",
        "--note",
        edited,
        "--as",
        "Lena",
    ]);
    assert!(
        out.contains("follow-up approved; the customer's email is queued"),
        "{out}"
    );
    let key = app.create_key("ci");
    let (status, body) = app.api(Some(&key)).post_json(
        &format!("/api/cases/{}/review", ids[1]),
        r#"{"decision": "reject", "note": "Too vague for the customer."}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["follow_up"], serde_json::Value::Null, "{body}");
    let out = app.pds_ok(&["cases", "review", &ids[2], "--approve"]);
    assert!(
        out.contains("approved, but not sent: the contact has unsubscribed"),
        "{out}"
    );

    let shown = app.pds_ok(&["cases", "show", &ids[0]]);
    assert!(
        shown.contains(&format!("Lena (command line)  followup_approved: {edited}"))
            && shown.contains("followup_queued"),
        "{shown}"
    );
    let (_, detail) = app.api(Some(&key)).get(&format!("/api/cases/{}", ids[1]));
    assert!(
        detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "followup_rejected"
                && e["actor_kind"] == "api"
                && e["actor_name"] == "ci"
                && e["note"] == "Too vague for the customer."),
        "{detail}"
    );

    // A follow-up is reviewed once; a case without one has nothing to review.
    let out = app.pds(&["cases", "review", &ids[0], "--reject"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was approved already"),
        "{out:?}"
    );
    let out = app.pds(&["cases", "review", &ids[3], "--approve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no follow-up awaiting review"),
        "{out:?}"
    );
    let (status, body) = app.api(Some(&key)).post_json(
        &format!("/api/cases/{}/review", ids[0]),
        r#"{"decision": "maybe"}"#,
    );
    assert_eq!(status, 400, "{body}");

    app.pds_ok(&["worker", "--once"]);
    let to_anna = follow_ups(&anna);
    assert_eq!(to_anna.len(), 1);
    let body = text_of(&to_anna[0]);
    assert!(
        body.contains(edited) && body.contains("Late delivery of the sofa"),
        "{body}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    for quiet in [&bo, &cy] {
        assert!(follow_ups(quiet).is_empty(), "{quiet}");
    }
    assert_eq!(follow_ups(&anna).len(), 1);
}

on_both_backends!(an_analyst_approves_or_rejects_each_follow_up_before_it_is_sent);
