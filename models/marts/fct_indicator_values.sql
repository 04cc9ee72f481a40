-- Every indicator value, units as they were in the period: computed (dossiers, task register),
-- reported (submissions) and derived (roll-ups of reported figures, target attainment) side by
-- side, with target, attainment, change and rank. `is_headline` marks the one value per unit,
-- period, indicator and dimension that dashboards show (computed, else reported, else derived).

{#- the periods this run computes, and those their change columns read -#}
{%- set read = periods_to_read() %}

with

assessed as (

    {{- union_all_by_name([
        {'model': 'int_indicator_values__assessed', 'where': period_in('period', read)},
        {'model': 'int_indicator_values__target_attainment', 'where': period_in('period', read)},
    ]) | indent(4) }}

),

units as (

    select
        unit_level,
        valid_from,
        coalesce(valid_to, {{ end_of_time() }}) as valid_to
    from {{ ref('int_units') }}

),

periods as (

    select
        period,
        period_start,
        period_end
    from {{ ref('int_periods') }}

),

level_stability as (

    -- a level is ranked in a period only if none of its units began or ended inside it
    -- (provinces are not ranked over the year 2025: 63 before 1 July, 34 after)
    select
        u.unit_level,
        p.period,
        bool_and(u.valid_from <= p.period_start and u.valid_to >= p.period_end) as is_stable
    from (select distinct period from assessed) as used
    inner join periods as p on used.period = p.period
    inner join units as u
        on p.period_end >= u.valid_from and p.period_start <= u.valid_to
    group by all

),

indicator_values as (

    select
        a.*,
        coalesce(s.is_stable, false) as is_rankable
    from assessed as a
    left join level_stability as s
        on a.unit_level = s.unit_level and a.period = s.period

),

{{ change_and_rank('indicator_values') }}
