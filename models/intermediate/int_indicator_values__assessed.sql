-- Every indicator value, units as they were in the period, from every source side by side:
-- computed from dossiers or the task register, reported in a submission, derived by rolling
-- reported figures up the hierarchy. Each carries its value, the target in force (the
-- submission's own, else the unit's in the targets seed, else its level's), the attainment,
-- and whether it is the headline value of its unit, period, indicator and dimension
-- (computed, else reported, else derived).

with

-- stacked by column name: each source's own columns, null in the others' rows
all_values as (

    {{- union_all_by_name([
        {'model': 'int_indicator_values__dossiers',
         'columns': {'as_of': 'cast(null as date)', 'has_counts': 'true', 'source': "'computed'"}},
        {'model': 'int_indicator_values__tasks', 'columns': {'source': "'computed'"}},
        {'model': 'int_indicator_values__submissions', 'columns': {'source': "'reported'"}},
        {'model': 'int_indicator_values__rollups', 'columns': {'source': "'derived'"}},
    ]) | indent(4) }}

),

units as (

    select
        unit_key,
        unit_code,
        valid_from
    from {{ ref('int_units') }}

),

catalogue as (

    select
        indicator_code,
        unit,
        direction
    from {{ ref('indicators') }}

),

periods as (

    select
        period,
        period_year,
        previous_period,
        same_period_previous_year
    from {{ ref('int_periods') }}

),

enriched as (

    select
        v.*,
        u.unit_code,
        u.valid_from as unit_valid_from,
        c.unit as indicator_unit,
        c.direction,
        p.period_year,
        p.previous_period,
        p.same_period_previous_year,
        coalesce(
            case when v.source = 'reported' and not v.has_counts then v.value end,
            {{ indicator_value('c.unit', 'v.numerator', 'v.denominator') }}
        ) as indicator_value,
        coalesce(v.submitted_target, {{ seed_target() }}) as target,
        case when v.submitted_target is not null then 'submission' else {{ seed_target_source() }} end
            as target_source
    from all_values as v
    inner join units as u on v.unit_key = u.unit_key
    inner join catalogue as c on v.indicator_code = c.indicator_code
    inner join periods as p on v.period = p.period
    {{ join_seed_targets('u.unit_code', 'v.unit_level', 'p.period_year', 'v.indicator_code') }}

)

select
    {{ indicator_value_row(computed={
        'value': 'indicator_value',
        'attainment': attainment('indicator_value', 'target', 'direction'),
        'is_headline': headline_rank() ~ ' = 1',
    }) | indent(4) }}
from enriched
where {{ in_periods_to_refresh() }}
