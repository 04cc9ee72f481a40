-- The newest version of every dossier, per source system (older versions stay in raw), without
-- the applicant's pseudonym: no model counts applicants.
-- A view for analysts and checks: int_dossiers__enriched picks the newest versions itself by the
-- same rule, so a national build does not write (and read back) a copy of every dossier.

select versions.* exclude (versions.applicant_key)
from {{ ref('stg_dossier_feed__dossier_versions') }} as versions
{{ qualify_newest_dossier_version('versions') }}
