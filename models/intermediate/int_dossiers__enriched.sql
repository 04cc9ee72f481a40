-- Current dossiers with the units they belonged to on the day they were received, and one 0/1
-- flag per measure (a missing value never makes a flag null: it counts as 0). A dossier
-- counts in the month it was received (see docs/design.md). An agency code retired by the
-- March 2025 department merger, still used on later dossiers, is followed to its successor.

with

dossiers as (

    select * from {{ ref('int_dossiers__current') }}

),

units as (

    select * from {{ ref('int_units') }}

),

-- a retired agency code and the later agency that held its business on each day
successors as (

    select
        u.unit_code,
        l.later_unit_key,
        l.held_from,
        l.held_to
    from {{ ref('int_unit_lineage') }} as l
    inner join units as u on l.unit_key = u.unit_key
    where u.unit_level = 'agency'
        and l.generations > 0

),

-- the newest update of each source: "now" for a dossier still in process
data_as_of as (

    select
        source_system,
        max(updated_at) as as_of
    from dossiers
    group by source_system

),

resolved as (

    select
        d.*,
        cast(d.received_at as date) as received_date,
        cast(date_trunc('month', d.received_at) as date) as received_month,
        u.unit_level as resolved_unit_level,
        u.province_unit_key,
        u.district_unit_key,
        case when u.unit_level = 'commune' then u.unit_key end as commune_unit_key,
        coalesce(a.unit_key, s.later_unit_key) as agency_unit_key,
        a.unit_key is null and s.later_unit_key is not null as agency_via_successor,
        n.as_of as data_as_of
    from dossiers as d
    inner join data_as_of as n on d.source_system = n.source_system
    left join units as u
        on d.unit_code = u.unit_code
            and u.unit_level in ('commune', 'province')
            and cast(d.received_at as date) between u.valid_from and coalesce(u.valid_to, {{ end_of_time() }})
    left join units as a
        on d.agency_code = a.unit_code
            and a.unit_level = 'agency'
            and cast(d.received_at as date) between a.valid_from and coalesce(a.valid_to, {{ end_of_time() }})
    left join successors as s
        on a.unit_key is null
            and d.agency_code = s.unit_code
            and cast(d.received_at as date) between s.held_from and coalesce(s.held_to, {{ end_of_time() }})

),

flagged as (

    select
        source_system,
        dossier_id,
        received_month,
        received_date,
        province_unit_key,
        district_unit_key,
        commune_unit_key,
        agency_unit_key,
        agency_via_successor,
        status,
        received_at,
        due_at,
        -- when the dossier left the queue: finished, or returned / withdrawn / rejected (the
        -- version's update time); null while it is still being processed
        case
            when finished_at is not null then finished_at
            when status in ('returned', 'withdrawn', 'rejected') then updated_at
        end as closed_at,
        1 as n_received,
        cast(coalesce(channel = 'online', false) as integer) as n_online,
        cast(coalesce(channel = 'online' and online_level = 'full', false) as integer) as n_full_online,
        cast(coalesce(status = 'finished' and finished_at is not null, false) as integer) as n_finished,
        cast(coalesce(status = 'finished' and finished_at <= due_at, false) as integer) as n_finished_on_time,
        -- Decision 766 "resolution progress": resolved on or before the due time, or still in
        -- process and not yet due at the newest update of the feed
        cast(
            coalesce(
                case
                    when finished_at is not null then finished_at <= due_at
                    when status in ('returned', 'withdrawn', 'rejected') then updated_at <= due_at
                    else due_at >= data_as_of
                end,
                false
            ) as integer
        ) as n_in_time,
        cast(coalesce(fee_amount > 0 and payment_channel is not null, false) as integer) as n_paid,
        cast(coalesce(fee_amount > 0 and payment_channel = 'online', false) as integer) as n_paid_online,
        cast(coalesce(is_digitized, false) as integer) as n_digitized,
        cast(coalesce(status = 'finished' and finished_at is not null and has_e_result, false) as integer)
            as n_e_result,
        cast(coalesce(reused_data, false) as integer) as n_reused_data,
        cast(coalesce(identity_verified, false) as integer) as n_identity_verified,
        cast(coalesce(satisfaction is not null, false) as integer) as n_rated,
        cast(coalesce(satisfaction in ('very_satisfied', 'satisfied'), false) as integer) as n_satisfied,
        cast(coalesce(synced_national_at is not null, false) as integer) as n_synced_national

    from resolved

)

select * from flagged
