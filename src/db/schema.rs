//! The database schema, shared by both backends. Keep in step with `migrations/`.

diesel::table! {
    surveys (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        max_problems -> Integer,
        closes_at -> Nullable<Timestamp>,
        definition -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    waves (id) {
        id -> BigInt,
        survey_id -> BigInt,
        label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        locale -> Text,
        attributes -> Text,
        unsubscribed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        audience -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        survey_id -> BigInt,
        wave_id -> BigInt,
        contact_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        opened_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        audience -> Text,
    }
}

diesel::table! {
    responses (id) {
        id -> BigInt,
        survey_id -> BigInt,
        wave_id -> BigInt,
        invitation_id -> Nullable<BigInt>,
        contact_id -> Nullable<BigInt>,
        locale -> Text,
        attributes -> Text,
        no_problems -> Integer,
        submitted_at -> Timestamp,
        updated_at -> Timestamp,
        audience -> Text,
        /// An imported response's respondent id from the file; NULL for the form's.
        respondent -> Nullable<Text>,
    }
}

diesel::table! {
    areas (id) {
        id -> BigInt,
        survey_id -> BigInt,
        key -> Text,
        label -> Text,
        created_at -> Timestamp,
        origin -> Text,
        status -> Text,
        labels -> Text,
        team -> Nullable<Text>,
        merged_into -> Nullable<BigInt>,
    }
}

diesel::table! {
    mentions (id) {
        id -> BigInt,
        response_id -> BigInt,
        rank -> Integer,
        text -> Text,
        frequency -> Nullable<Text>,
        may_contact -> Integer,
        area_id -> Nullable<BigInt>,
        coded_by -> Nullable<Text>,
        coded_at -> Nullable<Timestamp>,
        coding_note -> Nullable<Text>,
    }
}

diesel::table! {
    checklist_answers (id) {
        id -> BigInt,
        response_id -> BigInt,
        item_id -> Text,
        position -> Nullable<Integer>,
        experienced -> Text,
        bother -> Nullable<Integer>,
        solved_elsewhere -> Nullable<Text>,
    }
}

diesel::table! {
    checklist_drafts (invitation_id) {
        invitation_id -> BigInt,
        answers -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        invitation_id -> Nullable<BigInt>,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        list_unsubscribe -> Nullable<Text>,
        contact_id -> Nullable<BigInt>,
        sender_name -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        webhook_secret_env -> Nullable<Text>,
    }
}

diesel::table! {
    routing (survey_id) {
        survey_id -> BigInt,
        definition -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    routed_complaints (id) {
        id -> BigInt,
        survey_id -> BigInt,
        response_id -> BigInt,
        team -> Text,
        text_key -> Text,
        rule -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitation_tokens (id) {
        id -> BigInt,
        invitation_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    unsubscribe_tokens (id) {
        id -> BigInt,
        contact_id -> BigInt,
        invitation_id -> Nullable<BigInt>,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(waves -> surveys (survey_id));
diesel::joinable!(invitations -> waves (wave_id));
diesel::joinable!(invitations -> contacts (contact_id));
diesel::joinable!(invitations -> surveys (survey_id));
diesel::joinable!(responses -> waves (wave_id));
diesel::joinable!(mentions -> responses (response_id));
diesel::joinable!(checklist_answers -> responses (response_id));
diesel::joinable!(checklist_drafts -> invitations (invitation_id));
diesel::joinable!(mentions -> areas (area_id));
diesel::joinable!(outbox -> invitations (invitation_id));
diesel::joinable!(invitation_tokens -> invitations (invitation_id));
diesel::joinable!(unsubscribe_tokens -> contacts (contact_id));

diesel::allow_tables_to_appear_in_same_query!(
    surveys,
    waves,
    contacts,
    invitations,
    responses,
    areas,
    mentions,
    checklist_answers,
    checklist_drafts,
    outbox,
    routing,
    routed_complaints,
    invitation_tokens,
    unsubscribe_tokens,
);

diesel::table! {
    codebooks (survey_id) {
        survey_id -> BigInt,
        definition -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    coding_decisions (id) {
        id -> BigInt,
        survey_id -> BigInt,
        action -> Text,
        area_id -> Nullable<BigInt>,
        detail -> Text,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        csrf_token -> Text,
        key_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(admin_sessions -> api_keys (key_id));
diesel::allow_tables_to_appear_in_same_query!(admin_sessions, api_keys);

diesel::table! {
    cases (id) {
        id -> BigInt,
        survey_id -> BigInt,
        response_id -> BigInt,
        team -> Text,
        team_name -> Text,
        team_locale -> Text,
        rank -> Integer,
        text -> Text,
        text_key -> Text,
        may_contact -> Integer,
        status -> Text,
        assignee -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reference -> Nullable<Text>,
    }
}

diesel::table! {
    case_events (id) {
        id -> BigInt,
        case_id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    case_links (id) {
        id -> BigInt,
        case_id -> BigInt,
        action -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(case_links -> cases (case_id));
diesel::joinable!(cases -> surveys (survey_id));
diesel::joinable!(cases -> responses (response_id));
diesel::allow_tables_to_appear_in_same_query!(cases, case_events, case_links);
diesel::allow_tables_to_appear_in_same_query!(cases, surveys);
diesel::allow_tables_to_appear_in_same_query!(cases, responses);
diesel::allow_tables_to_appear_in_same_query!(cases, waves);

// Closing the loop for customers: the cadence's daily batches, "you said, we did"
// announcements, and follow-ups held for review.
diesel::table! {
    cadence_runs (id) {
        id -> BigInt,
        survey_id -> BigInt,
        day -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    announcements (id) {
        id -> BigInt,
        survey_id -> BigInt,
        area_id -> BigInt,
        waves -> Text,
        texts -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    announcement_recipients (id) {
        id -> BigInt,
        announcement_id -> BigInt,
        contact_id -> BigInt,
        wave_id -> BigInt,
        status -> Text,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    announcement_emails (id) {
        id -> BigInt,
        contact_id -> BigInt,
        wave_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    followup_reviews (case_id) {
        case_id -> BigInt,
        note -> Text,
        status -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    survey_summaries (survey_id) {
        survey_id -> BigInt,
        last_coded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    survey_attributes (id) {
        id -> BigInt,
        survey_id -> BigInt,
        name -> Text,
    }
}

diesel::joinable!(announcement_recipients -> announcements (announcement_id));
diesel::joinable!(announcement_recipients -> contacts (contact_id));
diesel::joinable!(announcement_recipients -> waves (wave_id));
diesel::joinable!(announcements -> areas (area_id));

diesel::allow_tables_to_appear_in_same_query!(announcement_recipients, announcements);
diesel::allow_tables_to_appear_in_same_query!(announcement_recipients, contacts);
diesel::allow_tables_to_appear_in_same_query!(announcement_recipients, waves);
diesel::allow_tables_to_appear_in_same_query!(announcement_recipients, areas);
diesel::allow_tables_to_appear_in_same_query!(announcement_recipients, surveys);
diesel::allow_tables_to_appear_in_same_query!(announcements, contacts);
diesel::allow_tables_to_appear_in_same_query!(announcements, waves);
diesel::allow_tables_to_appear_in_same_query!(announcements, areas);
diesel::allow_tables_to_appear_in_same_query!(announcements, surveys);
