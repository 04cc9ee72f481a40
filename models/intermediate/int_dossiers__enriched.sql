-- Current dossiers with the units they belonged to on the day they were received, and one 0/1
-- flag per measure. A dossier counts in the month it was received (see docs/design.md).

with

dossiers as (

    select * from {{ ref('int_dossiers__current') }}

),

units as (

    select * from {{ ref('int_units') }}

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
        a.unit_key as agency_unit_key
    from dossiers as d
    left join units as u
        on d.unit_code = u.unit_code
        and u.unit_level in ('commune', 'province')
        and cast(d.received_at as date) between u.valid_from and coalesce(u.valid_to, {{ end_of_time() }})
    left join units as a
        on d.agency_code = a.unit_code
        and a.unit_level = 'agency'
        and cast(d.received_at as date) between a.valid_from and coalesce(a.valid_to, {{ end_of_time() }})

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
        1 as n_received,
        (channel = 'online')::integer as n_online,
        (channel = 'online' and online_level = 'full')::integer as n_full_online,
        (status = 'finished' and finished_at is not null)::integer as n_finished,
        (status = 'finished' and finished_at is not null and finished_at <= due_at)::integer
            as n_finished_on_time,
        (fee_amount > 0 and payment_channel is not null)::integer as n_paid,
        (fee_amount > 0 and payment_channel = 'online')::integer as n_paid_online,
        is_digitized::integer as n_digitized,
        (status = 'finished' and finished_at is not null and has_e_result)::integer as n_e_result,
        reused_data::integer as n_reused_data,
        identity_verified::integer as n_identity_verified,
        (satisfaction is not null)::integer as n_rated,
        (satisfaction in ('very_satisfied', 'satisfied'))::integer as n_satisfied,
        (synced_national_at is not null)::integer as n_synced_national
    from resolved

)

select * from flagged
