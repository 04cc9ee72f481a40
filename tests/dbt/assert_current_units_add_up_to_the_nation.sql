-- History re-based on today's provinces loses and invents nothing: for every indicator
-- computed from dossiers and every period, the 34 provinces of today (fct_indicator_values_current_units) add up
-- to the nation of fct_indicator_values, before and after 1 July 2025.
with

dossier_indicators as (

    select indicator_code from {{ ref('indicators') }}
    where source = 'dossiers'

),

current_provinces as (

    select
        period,
        indicator_code,
        dimension,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(*) as n_provinces
    from {{ ref('fct_indicator_values_current_units') }}
    where unit_level = 'province'
        and source = 'computed'
        and indicator_code in (select d.indicator_code from dossier_indicators as d)
    group by all

),

nation as (

    select
        period,
        indicator_code,
        dimension,
        numerator,
        denominator
    from {{ ref('fct_indicator_values') }}
    where unit_level = 'nation'
        and source = 'computed'
        and indicator_code in (select d.indicator_code from dossier_indicators as d)

)

select
    coalesce(nation.period, current_provinces.period) as period,
    coalesce(nation.indicator_code, current_provinces.indicator_code) as indicator_code,
    nation.numerator,
    nation.denominator,
    current_provinces.numerator as current_provinces_numerator,
    current_provinces.denominator as current_provinces_denominator
from nation
full outer join current_provinces
    on nation.period = current_provinces.period
        and nation.indicator_code = current_provinces.indicator_code
        and nation.dimension = current_provinces.dimension
where
    nation.numerator is distinct from current_provinces.numerator
    or nation.denominator is distinct from current_provinces.denominator
