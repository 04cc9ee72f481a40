-- The floor for `de06 bench scale`: the dossier figures of the warehouse's marts, computed by
-- hand in one DuckDB script straight from the dossier files, with nothing kept between runs.
--
-- It computes what the dbt models compute from dossiers:
--   floor_indicator_values  the dossier indicators of fct_indicator_values (numerator,
--                           denominator, value) per unit, as it was, and period
--   floor_reconciliation    the counts of fct_dossier_reconciliation per unit and period
-- and leaves out what does not grow with the dossiers: targets, ranks and changes, which work on
-- the aggregated rows only.
--
-- Given by the runner (de06/bench.py):
--   variable dossier_files   the Parquet files, in the order they were ingested
--   variable nation_key      'VN@' || the project's history_start
--   database wh              the warehouse, attached read-only, for the reference tables only
--                            (units and their validity, lineage, periods, the catalogue)
-- Cleaning follows the ingest: text trimmed, empty text is null, codes upper-cased, categories
-- lower-cased. The generated files have no row the ingest would quarantine.

create or replace temp table floor_units as
select unit_key, unit_code, unit_level, province_unit_key, district_unit_key,
       valid_from, coalesce(valid_to, date '9999-12-31') as valid_to
from wh.intermediate.int_units;

create or replace temp table floor_lineage as
select l.unit_key, l.later_unit_key, l.generations, l.held_from,
       coalesce(l.held_to, date '9999-12-31') as held_to, u.unit_code, u.unit_level
from wh.intermediate.int_unit_lineage as l
inner join floor_units as u on l.unit_key = u.unit_key;

create or replace temp table floor_periods as
select period, period_start, period_end from wh.intermediate.int_periods;

create or replace temp table floor_catalogue as
select indicator_code, unit, numerator_measure, denominator_measure, time_aggregation
from wh.reference.indicators
where source = 'dossiers' and numerator_measure is not null;

-- 1. the newest version of every dossier, with its units on the day it was received
create or replace temp table floor_dossiers as
with versions as (
    select
        lower(nullif(trim(source_system), '')) as source_system,
        nullif(trim(dossier_id), '') as dossier_id,
        upper(nullif(trim(agency_code), '')) as agency_code,
        nullif(trim(unit_code), '') as unit_code,
        lower(nullif(trim(channel), '')) as channel,
        lower(nullif(trim(online_level), '')) as online_level,
        lower(nullif(trim(status), '')) as status,
        lower(nullif(trim(payment_channel), '')) as payment_channel,
        lower(nullif(trim(satisfaction), '')) as satisfaction,
        fee_amount, is_digitized, has_e_result, reused_data, identity_verified,
        received_at, due_at, finished_at, synced_national_at, updated_at,
        filename, file_row_number
    from read_parquet(getvariable('dossier_files'), filename = true, file_row_number = true)
),
newest as (
    select * exclude (filename, file_row_number)
    from versions
    qualify row_number() over (
        partition by source_system, dossier_id
        order by updated_at desc,
                 list_position(getvariable('dossier_files'), filename) desc,
                 file_row_number desc
    ) = 1
)
select
    d.source_system,
    d.dossier_id,
    cast(date_trunc('month', d.received_at) as date) as received_month,
    u.province_unit_key,
    u.district_unit_key,
    case when u.unit_level = 'commune' then u.unit_key end as commune_unit_key,
    coalesce(a.unit_key, s.later_unit_key) as agency_unit_key,
    a.unit_key is null and s.later_unit_key is not null as agency_via_successor,
    d.status,
    d.received_at,
    d.due_at,
    d.updated_at,
    case
        when d.finished_at is not null then d.finished_at
        when d.status in ('returned', 'withdrawn', 'rejected') then d.updated_at
    end as closed_at,
    d.channel = 'online' as is_online,
    d.channel = 'online' and d.online_level = 'full' as is_full_online,
    d.status = 'finished' and d.finished_at is not null as is_finished,
    d.status = 'finished' and d.finished_at <= d.due_at as is_finished_on_time,
    d.fee_amount > 0 and d.payment_channel is not null as is_paid,
    d.fee_amount > 0 and d.payment_channel = 'online' as is_paid_online,
    d.is_digitized,
    d.status = 'finished' and d.finished_at is not null and d.has_e_result as is_e_result,
    d.reused_data,
    d.identity_verified,
    d.satisfaction is not null as is_rated,
    d.satisfaction in ('very_satisfied', 'satisfied') as is_satisfied,
    d.synced_national_at is not null as is_synced
from newest as d
left join floor_units as u
    on d.unit_code = u.unit_code
        and u.unit_level in ('commune', 'province')
        and cast(d.received_at as date) between u.valid_from and u.valid_to
left join floor_units as a
    on d.agency_code = a.unit_code
        and a.unit_level = 'agency'
        and cast(d.received_at as date) between a.valid_from and a.valid_to
left join floor_lineage as s
    on s.unit_code = case when a.unit_key is null then d.agency_code end  -- a hash join
        and s.unit_level = 'agency'
        and s.generations > 0
        and cast(d.received_at as date) between s.held_from and s.held_to;

-- 2. monthly counts of the provincial system's dossiers, at every level at once
create or replace temp table floor_monthly as
select * exclude (is_nation)
from (
select
    received_month as month,
    case
        when grouping(commune_unit_key) = 0 then commune_unit_key
        when grouping(district_unit_key) = 0 then district_unit_key
        when grouping(agency_unit_key) = 0 then agency_unit_key
        when grouping(province_unit_key) = 0 then province_unit_key
        else getvariable('nation_key')
    end as unit_key,
    grouping(commune_unit_key) + grouping(district_unit_key) + grouping(agency_unit_key)
    + grouping(province_unit_key) = 4 as is_nation,
    count(*) as n_received,
    count(*) filter (where is_online) as n_online,
    count(*) filter (where is_full_online) as n_full_online,
    count(*) filter (where is_finished) as n_finished,
    count(*) filter (where is_finished_on_time) as n_finished_on_time,
    count(*) filter (where is_paid) as n_paid,
    count(*) filter (where is_paid_online) as n_paid_online,
    count(*) filter (where is_digitized) as n_digitized,
    count(*) filter (where is_e_result) as n_e_result,
    count(*) filter (where reused_data) as n_reused_data,
    count(*) filter (where identity_verified) as n_identity_verified,
    count(*) filter (where is_rated) as n_rated,
    count(*) filter (where is_satisfied) as n_satisfied,
    count(*) filter (where is_synced) as n_synced_national
from floor_dossiers
where source_system = 'provincial' and province_unit_key is not null
group by grouping sets (
    (received_month), (received_month, province_unit_key), (received_month, district_unit_key),
    (received_month, commune_unit_key), (received_month, agency_unit_key)
)
)
where is_nation or unit_key is not null;

-- 3. the overdue backlog at each month end the feed knows, in the units holding the dossiers
create or replace temp table floor_backlog as
with known as (
    select max(updated_at) as known_until
    from floor_dossiers where source_system = 'provincial'
),
overdue as (
    select
        d.province_unit_key, d.district_unit_key, d.commune_unit_key, d.agency_unit_key,
        cast(unnest(generate_series(
            date_trunc('month', greatest(d.due_at, d.received_at)) + interval 1 month,
            least(coalesce(d.closed_at, k.known_until), k.known_until),
            interval 1 month
        )) as date) - 1 as month_last_day
    from floor_dossiers as d, known as k
    where d.source_system = 'provincial' and d.province_unit_key is not null
        and d.due_at is not null
),
placed as (
    select
        date_trunc('month', o.month_last_day)::date as month,
        p.later_unit_key as province_unit_key,
        di.later_unit_key as district_unit_key,
        c.later_unit_key as commune_unit_key,
        a.later_unit_key as agency_unit_key
    from overdue as o
    inner join floor_lineage as p
        on o.province_unit_key = p.unit_key and o.month_last_day between p.held_from and p.held_to
    left join floor_lineage as di
        on o.district_unit_key = di.unit_key and o.month_last_day between di.held_from and di.held_to
    left join floor_lineage as c
        on o.commune_unit_key = c.unit_key and o.month_last_day between c.held_from and c.held_to
    left join floor_lineage as a
        on o.agency_unit_key = a.unit_key and o.month_last_day between a.held_from and a.held_to
),
counted as (
    select
        month,
        case
            when grouping(commune_unit_key) = 0 then commune_unit_key
            when grouping(district_unit_key) = 0 then district_unit_key
            when grouping(agency_unit_key) = 0 then agency_unit_key
            when grouping(province_unit_key) = 0 then province_unit_key
            else getvariable('nation_key')
        end as unit_key,
        count(*) as n_overdue_backlog
    from placed
    group by grouping sets (
        (month), (month, province_unit_key), (month, district_unit_key),
        (month, commune_unit_key), (month, agency_unit_key)
    )
),
grid as (
    -- units with dossiers in a month whose end is known, and units with overdue dossiers
    select m.month, m.unit_key
    from floor_monthly as m, known as k
    where m.month + interval 1 month <= k.known_until
    union
    select month, unit_key from counted where unit_key is not null
)
select g.month, g.unit_key, coalesce(c.n_overdue_backlog, 0) as n_overdue_backlog
from grid as g
left join counted as c on g.month = c.month and g.unit_key = c.unit_key;

-- 4. the indicators per period: flows summed over the months, the backlog at the period's end
create or replace table floor_indicator_values as
with measures as (
    select month, unit_key, measure, measure_value
    from (unpivot floor_monthly
          on columns('^n_') into name measure value measure_value)
    union all
    select month, unit_key, 'n_overdue_backlog', n_overdue_backlog from floor_backlog
),
by_period as (
    select
        m.unit_key,
        p.period,
        c.indicator_code,
        c.unit,
        sum(m.measure_value) filter (where m.measure = c.numerator_measure) as numerator,
        sum(m.measure_value) filter (where m.measure = c.denominator_measure) as denominator
    from measures as m
    inner join floor_catalogue as c
        on m.measure = c.numerator_measure or m.measure = c.denominator_measure
    inner join floor_periods as p
        on (c.time_aggregation = 'sum' and m.month between p.period_start and p.period_end)
            or (c.time_aggregation = 'snapshot' and last_day(m.month) = p.period_end)
    group by all
)
select
    unit_key,
    period,
    indicator_code,
    numerator::double as numerator,
    denominator::double as denominator,
    case
        when unit = 'rate' then numerator::double / nullif(denominator::double, 0)
        when unit = 'count' then numerator::double
    end as value
from by_period;

-- 5. the reconciliation: every dossier id of either system, paired, counted per unit and period
create or replace table floor_reconciliation as
with pairs as (
    select
        coalesce(p.received_month, n.received_month) as received_month,
        case when p.dossier_id is not null then p.province_unit_key else n.province_unit_key end
            as province_unit_key,
        case when p.dossier_id is not null then p.district_unit_key else n.district_unit_key end
            as district_unit_key,
        case when p.dossier_id is not null then p.commune_unit_key else n.commune_unit_key end
            as commune_unit_key,
        case when p.dossier_id is not null then p.agency_unit_key else n.agency_unit_key end
            as agency_unit_key,
        p.dossier_id is not null as in_provincial,
        n.dossier_id is not null as in_portal,
        p.dossier_id is not null and n.dossier_id is not null as is_matched,
        coalesce(p.is_synced, false) as says_synced,
        coalesce(p.agency_via_successor or n.agency_via_successor, false) as via_successor,
        p.status <> n.status as status_differs,
        coalesce(p.province_unit_key, '') <> coalesce(n.province_unit_key, '')
        or coalesce(p.commune_unit_key, '') <> coalesce(n.commune_unit_key, '')
        or coalesce(p.agency_unit_key, '') <> coalesce(n.agency_unit_key, '') as units_differ
    from (select * from floor_dossiers where source_system = 'provincial') as p
    full outer join (select * from floor_dossiers where source_system = 'national_portal') as n
        on p.dossier_id = n.dossier_id
),
monthly as (
    select
        received_month as month,
        case
            when grouping(commune_unit_key) = 0 then commune_unit_key
            when grouping(district_unit_key) = 0 then district_unit_key
            when grouping(agency_unit_key) = 0 then agency_unit_key
            when grouping(province_unit_key) = 0 then province_unit_key
            else getvariable('nation_key')
        end as unit_key,
        count(*) filter (where in_provincial) as n_provincial,
        count(*) filter (where in_portal) as n_portal,
        count(*) filter (where is_matched) as n_matched,
        count(*) filter (where in_provincial and not in_portal) as n_only_provincial,
        count(*) filter (where in_portal and not in_provincial) as n_only_portal,
        count(*) filter (where is_matched and status_differs) as n_status_mismatch,
        count(*) filter (where is_matched and units_differ) as n_unit_mismatch,
        count(*) filter (where is_matched and via_successor) as n_matched_via_successor,
        count(*) filter (where says_synced) as n_provincial_says_synced
    from pairs
    where province_unit_key is not null
    group by grouping sets (
        (received_month), (received_month, province_unit_key),
        (received_month, district_unit_key), (received_month, commune_unit_key),
        (received_month, agency_unit_key)
    )
)
select
    m.unit_key,
    p.period,
    sum(n_provincial) as n_provincial,
    sum(n_portal) as n_portal,
    sum(n_matched) as n_matched,
    sum(n_only_provincial) as n_only_provincial,
    sum(n_only_portal) as n_only_portal,
    sum(n_status_mismatch) as n_status_mismatch,
    sum(n_unit_mismatch) as n_unit_mismatch,
    sum(n_matched_via_successor) as n_matched_via_successor,
    sum(n_provincial_says_synced) as n_provincial_says_synced
from monthly as m
inner join floor_periods as p on m.month between p.period_start and p.period_end
where m.unit_key is not null
group by all;
