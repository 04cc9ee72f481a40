-- Nothing is lost between the current dossiers and the monthly counts: the nation's dossiers
-- received per source and month equal the resolved current dossiers of that month.
with

counted as (

    select
        source_system,
        received_month,
        n_received
    from {{ ref('int_dossier_measures__monthly') }}
    where unit_level = 'nation'

),

dossiers as (

    select
        source_system,
        received_month,
        count(*) as n_dossiers
    from {{ ref('int_dossiers__enriched') }}
    where province_unit_key is not null
    group by all

)

select
    counted.*,
    dossiers.n_dossiers
from counted
full outer join dossiers
    on counted.source_system = dossiers.source_system and counted.received_month = dossiers.received_month
where counted.n_received is distinct from dossiers.n_dossiers
