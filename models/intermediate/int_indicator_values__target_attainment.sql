-- The target-attainment rate (tỷ lệ chỉ tiêu đạt) of each unit and period: its headline
-- indicators that met or exceeded their target / its headline indicators with a target and a
-- value. Derived from the other indicators of the same unit and period; not rolled up.

with

assessed as (

    select * from {{ ref('int_indicator_values__assessed') }}
    where is_headline and target is not null and attainment is not null

),

catalogue as (

    select
        indicator_code,
        unit,
        direction
    from {{ ref('indicators') }}
    where source = 'derived'
        and numerator_measure = 'n_targets_met'
        and denominator_measure = 'n_targets'

),

counted as (

    select
        {{ indicator_value_row(through='same_period_previous_year') | indent(8) }},
        count(*) filter (where attainment in ('met', 'exceeded'))::double as numerator,
        count(*)::double as denominator
    from assessed
    group by all

),

valued as (

    select
        counted.*,
        c.indicator_code,
        c.unit as indicator_unit,
        c.direction,
        counted.numerator / counted.denominator as value,
        {{ seed_target() }} as target,
        {{ seed_target_source() }} as target_source
    from counted
    cross join catalogue as c
    {{ join_seed_targets('counted.unit_code', 'counted.unit_level', 'counted.period_year', 'c.indicator_code') }}

)

select
    {{ indicator_value_row(through='is_headline', omit=['reported_value'], computed={
        'as_of': 'null::date',
        'dimension': "''",
        'has_counts': 'true',
        'attainment': attainment('value', 'target', 'direction'),
        'source': "'derived'",
        'is_headline': 'true',
    }) | indent(4) }}
from valued
where {{ in_periods_to_refresh() }}
