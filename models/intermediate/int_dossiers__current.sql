-- The current version of every dossier, per source system (older versions stay in raw), without
-- the applicant's pseudonym: no model counts applicants. The ingest marks every version it
-- replaces (superseded_by_load_id: the newest updated_at wins, then the later load), so the
-- current ones are a filter, not a ranking of every version.
-- A view for analysts and checks; int_dossiers__enriched takes the same rows itself.

select {{ star_except('versions', ['applicant_key', 'superseded_by_load_id']) }}
from {{ ref('stg_dossier_feed__dossier_versions') }} as versions
where versions.superseded_by_load_id is null
