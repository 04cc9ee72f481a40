-- Bộ chỉ số 766 as the national portal published it: one row per unit, period and component
-- of the current capture of its export (the tree pages' group figures are the rows of
-- PROGRESS_ON_TIME, ONLINE_SERVICE and ONLINE_PAYMENT), with the points the weights version's
-- rule gives for the published counts, rounded the portal's way (macros/portal_rounding.sql).
-- Where the rule is confirmed, points_by_rule equals the published points to the cent: the
-- proof that the warehouse's rules are the portal's.

with

published as (

    select * from {{ ref('int_index_766__published') }}
    where not is_group_total

),

components as (

    select * from {{ ref('index_766_components') }}

),

terms as (

    select * from {{ ref('index_766_composite_terms') }}

),

ruled as (

    select
        p.*,
        c.weights_version,
        c.component_name_vi,
        c.component_name_en,
        coalesce(c.max_points, p.max_score) as max_points,
        coalesce(c.rule, 'published') as rule,
        c.full_points_at,
        c.zero_denominator,
        c.scope,
        coalesce(c.rule_status, 'no_rule') as rule_status,
        {{ portal_percent_cents('p.numerator', 'p.denominator') }} as percent_cents
    from published as p
    left join components as c
        on p.metric_code = c.component_code
            and p.period_end between c.valid_from and coalesce(c.valid_to, {{ end_of_time() }})

),

-- a composite component's terms with their counts
composite_counts as (

    select
        r.load_id,
        r.source_row_number,
        r.metric_code,
        t.max_points,
        t.full_points_at,
        case t.numerator_count
            when 'dossiers_paid_online' then r.dossiers_paid_online
            when 'fee_procedures_paying_online' then r.fee_procedures_paying_online
            when 'fee_procedures_fee_synced' then r.fee_procedures_fee_synced
        end as numerator,
        case t.denominator_count
            when 'dossiers_with_obligation' then r.dossiers_with_obligation
            when 'fee_procedures' then r.fee_procedures
        end as denominator
    from ruled as r
    inner join terms as t
        on r.weights_version = t.weights_version
            and r.metric_code = t.component_code
    where r.rule = 'composite'

),

composite_terms as (

    select
        *,
        {{ portal_percent_cents('numerator', 'denominator') }} as percent_cents
    from composite_counts

),

-- each term rounded the portal's way: a zero denominator gives the term 0, a count missing
-- no points
composite_points as (

    select
        load_id,
        source_row_number,
        metric_code,
        {{ portal_term_cents(
            'percent_cents', 'numerator', 'denominator', 'max_points', 'full_points_at'
        ) | indent(8) }} as term_cents
    from composite_terms

),

-- the terms added (in hundredths: exact); a term without points leaves the component without
composite as (

    select
        load_id,
        source_row_number,
        metric_code,
        case when count(*) = count(term_cents) then sum(term_cents) end as points_cents
    from composite_points
    group by load_id, source_row_number, metric_code

),

scored as (

    select
        r.*,
        case
            when r.rule = 'composite' then k.points_cents
            when r.rule not in ('linear', 'cap') then null
            when r.numerator is null or r.denominator is null then null
            when r.denominator = 0 and r.zero_denominator = 'zero' then 0
            when r.denominator = 0 and r.zero_denominator = 'full'
                then cast(round(r.max_points * 100) as bigint)
            when r.denominator = 0 then null
            else {{ portal_points_cents(
                'r.percent_cents', 'r.max_points', 'cast(round(r.full_points_at * 100) as bigint)'
            ) | indent(12) }}
        end / cast(100 as double) as points_by_rule
    from ruled as r
    left join composite as k
        on r.load_id = k.load_id
            and r.source_row_number = k.source_row_number
            and r.metric_code = k.metric_code

)

select
    unit_key,
    unit_code,
    unit_level,
    province_code,
    portal_department_id,
    portal_department_code,
    portal_department_name,
    is_parent,
    period,
    period_grain,
    period_start,
    period_end,
    weights_version,
    group_code,
    metric_code as component_code,
    coalesce(component_name_vi, metric_name) as component_name_vi,
    component_name_en,
    numerator,
    denominator,
    ratio,
    percent_cents / cast(100 as double) as percent_by_rule,
    score as points,
    max_points,
    points_by_rule,
    {{ exact_points_difference('points_by_rule', 'score') }} as points_difference,
    rule,
    scope,
    rule_status,
    fee_procedures_paying_online,
    fee_procedures_fee_synced,
    fee_procedures,
    data_quality_status,
    data_quality_message,
    captured_on,
    is_provisional,
    page,
    source_file,
    load_id,
    source_row_number
from scored
