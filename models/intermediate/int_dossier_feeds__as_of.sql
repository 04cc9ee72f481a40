-- How far each dossier source is known: its newest version's update time. "Now" for a dossier
-- still in process (int_dossier_measures__monthly) and the last month end the feed can speak
-- for (int_dossier_backlog__month_ends). The newest update of any version is the newest of the
-- current versions, so this reads the versions directly.

select
    source_system,
    max(updated_at) as as_of
from {{ ref('stg_dossier_feed__dossier_versions') }}
group by source_system
