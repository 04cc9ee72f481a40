-- How far each dossier source is known: its newest version's update time. "Now" for a dossier
-- still in process (int_dossier_measures__monthly) and the last month end the feed can speak
-- for (int_dossier_backlog__month_ends).

select
    source_system,
    max(updated_at) as as_of
from {{ ref('int_dossiers__current') }}
group by source_system
