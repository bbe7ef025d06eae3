//! Computed results kept between page views. The bootstrap behind a ranking takes
//! seconds on a large survey, the page must not: results are kept per database,
//! survey and view (wave, segment attribute, compared wave), stamped with the
//! survey's freshness (`report::freshness`: response count, latest answer, latest
//! coding, decisions). A view whose stamp changed is computed again, so a new answer
//! or a coding decision shows at the next page view. The stamp is read from the
//! database at every view, never invalidated in memory, so several `pds serve`
//! instances on one PostgreSQL database each see what the others stored
//! (`tests/it/scale_out.rs`). The cache is the app's ([`crate::web::AppState`]),
//! like every cache of the web app.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use crate::config::DatabaseUrl;
use crate::db::AnyConnection;
use crate::error::Result;
use crate::report::freshness::{self, Freshness};
use crate::report::{self, Options, Results};
use crate::survey::StoredSurvey;

/// Views kept at most; the cache is emptied when it is full (views are few).
const MAX_VIEWS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct View {
    survey_id: i64,
    wave: Option<String>,
    by: Option<String>,
    compare_wave: Option<String>,
}

/// Each view's results with the freshness stamp they were computed at.
type Kept = HashMap<View, (Freshness, Arc<Results>)>;

/// The dashboard's computed views of one app (its one database).
#[derive(Debug, Default)]
pub(crate) struct Views(Mutex<Kept>);

impl Views {
    /// The results of `options` (default bootstrap) for `survey`, computed again
    /// only when the survey's data changed since they were last computed.
    /// `url` is the database's, which `conn` reads (see [`report::compute_beside`]).
    pub(crate) fn results(
        &self,
        url: &DatabaseUrl,
        conn: &mut AnyConnection,
        survey: &StoredSurvey,
        options: &Options,
    ) -> Result<Arc<Results>> {
        results(&self.0, url, conn, survey, options)
    }
}

fn results(
    views: &Mutex<Kept>,
    url: &DatabaseUrl,
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
) -> Result<Arc<Results>> {
    let view = View {
        survey_id: survey.id,
        wave: options.wave.as_ref().map(|w| w.to_string()),
        by: options.by.clone(),
        compare_wave: options.compare_wave.as_ref().map(|w| w.to_string()),
    };
    let stamp = freshness::of_survey(conn, survey.id)?;
    {
        let views = views.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((kept, results)) = views.get(&view) {
            if *kept == stamp {
                return Ok(results.clone());
            }
        }
    }
    let computed = Arc::new(report::compute_beside(url, conn, survey, options, &|_| {
        ControlFlow::Continue(())
    })?);
    let mut views = views.lock().unwrap_or_else(|p| p.into_inner());
    if views.len() >= MAX_VIEWS {
        views.clear();
    }
    views.insert(view, (stamp, computed.clone()));
    Ok(computed)
}
