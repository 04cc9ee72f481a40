{#- The national portal's rounding of the 766 index (spec/index766.md §1), exactly.

    The portal rounds a share to a percentage with two decimals, then a component's points
    (percentage × weight ÷ 100) to two decimals, ties away from zero, by the value of the binary
    double it computed: 93.25 × 6 ÷ 100 is the double 5.594999…, so 5.59 (a naive round of
    the decimal 5.595 gives 5.60). No SQL engine rounds a double by its binary value (DuckDB
    rounds x × 100; Spark goes through its shortest decimal form), so these macros decide in
    exact arithmetic:

    * the exact value is a fraction of integers, in hundredths: `cents_num / cents_den`;
    * off a tie (…,xx5 exactly) the double is far too close to the exact value to round to
      another side: the fraction rounded half up is the answer, in integer arithmetic;
    * on a tie, the double decides: above the tie's double up, below it down; equal to it, up
      when that double lies above the true tie (its error found exactly by splitting it into
      two halves of 26 bits, Veltkamp's split, whose products by 200 are exact).

    Every argument is a non-negative SQL expression; the double is computed the portal's way by
    the caller. tests/python/test_portal_rounding.py checks these against Python's exact
    Decimal(float) on 20 000 cases and the ties. -#}

{#- Integer division, rounded down (both operands non-negative bigints). -#}
{% macro int_div(a, b) -%}
    {{ return(adapter.dispatch('int_div', 'de06')(a, b)) }}
{%- endmacro %}
{% macro default__int_div(a, b) -%}
    (({{ a }}) // ({{ b }}))
{%- endmacro %}
{% macro spark__int_div(a, b) -%}
    cast(({{ a }}) div ({{ b }}) as bigint)
{%- endmacro %}

{#- A double as the engines compute with it. -#}
{% macro as_double(expression) -%}
    cast({{ expression }} as double)
{%- endmacro %}

{#- The hundredths the portal rounds `double` to (a bigint): `double` the portal's double,
    `cents_num / cents_den` its exact value in hundredths (bigints, cents_den > 0). -#}
{% macro portal_round_cents(double, cents_num, cents_den) -%}
    {%- set floor_cents = int_div(cents_num, cents_den) -%}
    {%- set twice_rest = '2 * ((' ~ cents_num ~ ') - ' ~ floor_cents ~ ' * (' ~ cents_den ~ '))' -%}
    {%- set tie = as_double('2 * ' ~ floor_cents ~ ' + 1') ~ ' / ' ~ as_double(200) -%}
    {%- set big = as_double(134217729) -%}
    {%- set tie_high = '(' ~ tie ~ ' * ' ~ big ~ ' - (' ~ tie ~ ' * ' ~ big ~ ' - ' ~ tie ~ '))' -%}
    case
        when {{ twice_rest }} < ({{ cents_den }}) then {{ floor_cents }}
        when {{ twice_rest }} > ({{ cents_den }}) then {{ floor_cents }} + 1
        when ({{ double }}) > {{ tie }} then {{ floor_cents }} + 1
        when ({{ double }}) < {{ tie }} then {{ floor_cents }}
        -- the double is the tie's double: up unless that double lies below the true tie
        -- (tie × 200 - (2 × floor + 1), exactly: high half × 200 - n, then + low half × 200)
        when ({{ tie_high }} * {{ as_double(200) }} - {{ as_double('2 * ' ~ floor_cents ~ ' + 1') }})
            + ({{ tie }} - {{ tie_high }}) * {{ as_double(200) }} < 0
            then {{ floor_cents }}
        else {{ floor_cents }} + 1
    end
{%- endmacro %}

{#- A share's percentage in hundredths of a percent, as the portal rounds it (a bigint; null
    when the denominator is 0 or null). `numerator` and `denominator` are the published counts
    (doubles), exact to 1/10 000 (a count, or a denominator from last year's total ÷ 12). -#}
{% macro portal_percent_cents(numerator, denominator) -%}
    {%- set num = 'cast(round((' ~ numerator ~ ') * 10000) as bigint)' -%}
    {%- set den = 'cast(round((' ~ denominator ~ ') * 10000) as bigint)' -%}
    case
        when ({{ denominator }}) > 0 then {{ portal_round_cents(
            '(' ~ as_double(numerator) ~ ' / ' ~ as_double(denominator) ~ ') * ' ~ as_double(100),
            num ~ ' * 10000', den
        ) }}
    end
{%- endmacro %}

{#- Points in hundredths (a bigint) for a percentage (in hundredths, a bigint) under "max
    points, full points at `full_at_pct` %" (100 for a linear rule): percentage × weight ÷ 100
    with weight = max × 100 ÷ full_at_pct (2.5 for payment's B and C), rounded, then capped at
    max. `max_points` and `full_at_pct` are whole numbers. Counted in hundredths so that a sum
    of points (payment's three terms, a group) is exact. -#}
{% macro portal_points_cents(percent_cents, max_points, full_at_pct) -%}
    {%- set weight = '(' ~ as_double(max_points) ~ ' * ' ~ as_double(100) ~ ' / ' ~ as_double(full_at_pct) ~ ')' -%}
    {%- set points_double = '((' ~ as_double(percent_cents) ~ ' / ' ~ as_double(100) ~ ') * ' ~ weight ~ ') / ' ~ as_double(100) -%}
    least(
        cast(round(({{ max_points }}) * 100) as bigint),
        {{ portal_round_cents(
            points_double,
            '(' ~ percent_cents ~ ') * cast(' ~ max_points ~ ' as bigint)',
            'cast(' ~ full_at_pct ~ ' as bigint)'
        ) }}
    )
{%- endmacro %}

{#- A composite component's term in hundredths (payment's A, B, C): no points when a count is
    missing, 0 for a zero denominator (no fallback), else the term's rounded points (max points,
    full points at `full_points_at`, a fraction). `percent_cents` is portal_percent_cents of
    the counts, computed beforehand. -#}
{% macro portal_term_cents(percent_cents, numerator, denominator, max_points, full_points_at) -%}
    case
        when {{ numerator }} is null or {{ denominator }} is null then null
        when {{ denominator }} = 0 then 0
        else {{ portal_points_cents(
            percent_cents, max_points, 'cast(round(' ~ full_points_at ~ ' * 100) as bigint)'
        ) }}
    end
{%- endmacro %}
