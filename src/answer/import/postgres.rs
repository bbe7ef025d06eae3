//! PostgreSQL's bulk path of an import: each batch goes in by `COPY ... FROM STDIN`
//! (binary), one COPY per table, inside the import's one transaction; response ids
//! come from the table's sequence beforehand (`store::ResponseIds`), and the
//! sequences of the other tables move on by themselves as COPY fills their ids.

use diesel::prelude::*;

use super::store::Batch;
use crate::db::schema::{imported_responses, mentions, responses};

/// Stores one batch: responses, their import rows, then mentions.
pub(super) fn copy_batch(conn: &mut PgConnection, batch: &Batch) -> QueryResult<()> {
    if !batch.responses.is_empty() {
        diesel::copy_from(responses::table)
            .from_insertable(&batch.responses)
            .execute(conn)?;
        diesel::copy_from(imported_responses::table)
            .from_insertable(&batch.imported)
            .execute(conn)?;
    }
    if !batch.mentions.is_empty() {
        diesel::copy_from(mentions::table)
            .from_insertable(&batch.mentions)
            .execute(conn)?;
    }
    Ok(())
}
