{#- SQL the engines spell differently, one macro per construct (adapter.dispatch: `default__`
    is DuckDB's spelling, `spark__` Spark SQL's). Everything else in the models is SQL both
    engines read alike; docs/spark.md lists the differences. -#}

{#- `alias.*` without some columns: DuckDB `* exclude (...)`, Spark `* except (...)`. -#}
{% macro star_except(alias, columns) -%}
    {{ return(adapter.dispatch('star_except', 'de06')(alias, columns)) }}
{%- endmacro %}
{% macro default__star_except(alias, columns) -%}
    {{ alias ~ '.' if alias }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}
{% macro spark__star_except(alias, columns) -%}
    {{ alias ~ '.' if alias }}* except ({{ columns | join(', ') }})
{%- endmacro %}


{#- A CTE's materialisation hint: DuckDB `materialized` / `not materialized`; Spark SQL has
    no hint (its optimiser inlines a CTE read once and may reuse one read twice). -#}
{% macro cte_materialized(materialized) -%}
    {{ return(adapter.dispatch('cte_materialized', 'de06')(materialized)) }}
{%- endmacro %}
{% macro default__cte_materialized(materialized) -%}
    {{ '' if materialized else 'not ' }}materialized
{%- endmacro %}
{% macro spark__cte_materialized(materialized) -%}
{%- endmacro %}


{#- Aggregates, into an array: the distinct values of `expression` sorted; every value sorted.
    `where`: only the rows where it is true (an aggregate filter). No row: DuckDB null, Spark
    an empty array (join_array makes both '' or null: wrap in nullif where it matters). -#}
{% macro sorted_set_agg(expression, where=none) -%}
    {{ return(adapter.dispatch('sorted_set_agg', 'de06')(expression, where)) }}
{%- endmacro %}
{% macro default__sorted_set_agg(expression, where) -%}
    list_sort(list_distinct(list({{ expression }}){{ agg_filter(where) }}))
{%- endmacro %}
{% macro spark__sorted_set_agg(expression, where) -%}
    array_sort(collect_set({{ expression }}){{ agg_filter(where) }})
{%- endmacro %}

{% macro sorted_list_agg(expression, where=none) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'de06')(expression, where)) }}
{%- endmacro %}
{% macro default__sorted_list_agg(expression, where) -%}
    list_sort(list({{ expression }}){{ agg_filter(where) }})
{%- endmacro %}
{% macro spark__sorted_list_agg(expression, where) -%}
    array_sort(collect_list({{ expression }}){{ agg_filter(where) }})
{%- endmacro %}

{% macro agg_filter(where) -%}
    {%- if where is not none %} filter (where {{ where }}){% endif -%}
{%- endmacro %}

{#- An array's elements as text, joined by `separator`. -#}
{% macro join_array(expression, separator) -%}
    {{ return(adapter.dispatch('join_array', 'de06')(expression, separator)) }}
{%- endmacro %}
{% macro default__join_array(expression, separator) -%}
    array_to_string({{ expression }}, '{{ separator }}')
{%- endmacro %}
{% macro spark__join_array(expression, separator) -%}
    array_join({{ expression }}, '{{ separator }}')
{%- endmacro %}

{#- An array of the values given: DuckDB `[a, b]`, Spark `array(a, b)`. -#}
{% macro array_of(values) -%}
    {{ return(adapter.dispatch('array_of', 'de06')(values)) }}
{%- endmacro %}
{% macro default__array_of(values) -%}
    [{{ values | join(', ') }}]
{%- endmacro %}
{% macro spark__array_of(values) -%}
    array({{ values | join(', ') }})
{%- endmacro %}

{#- In a select list: one row per element of an array (DuckDB unnest, Spark explode; a null
    array gives no row on both). -#}
{% macro unnest_array(expression) -%}
    {{ return(adapter.dispatch('unnest_array', 'de06')(expression)) }}
{%- endmacro %}
{% macro default__unnest_array(expression) -%}
    unnest({{ expression }})
{%- endmacro %}
{% macro spark__unnest_array(expression) -%}
    explode({{ expression }})
{%- endmacro %}

{#- `first`, `first` + 1 month, ... while not after `last` (dates or timestamps), as an array;
    empty when `first` is after `last` (Spark's `sequence` fails on a descending range with a
    positive step, hence the case). -#}
{% macro month_series(first, last) -%}
    {{ return(adapter.dispatch('month_series', 'de06')(first, last)) }}
{%- endmacro %}
{% macro default__month_series(first, last) -%}
    generate_series({{ first }}, {{ last }}, interval 1 month)
{%- endmacro %}
{% macro spark__month_series(first, last) -%}
    case
        when {{ first }} <= {{ last }} then sequence({{ first }}, {{ last }}, interval 1 month)
    end
{%- endmacro %}

{#- Rows as named columns unpivoted into (`name_column`, `value_column`), dropping nulls,
    with `id_columns` kept: `from` a relation or CTE. -#}
{% macro unpivot_columns(relation, id_columns, columns, name_column, value_column) -%}
    {{ return(adapter.dispatch('unpivot_columns', 'de06')(relation, id_columns, columns, name_column, value_column)) }}
{%- endmacro %}
{% macro default__unpivot_columns(relation, id_columns, columns, name_column, value_column) -%}
    select {{ id_columns | join(', ') }}, {{ name_column }}, {{ value_column }}
    from (
        unpivot (select {{ (id_columns + columns) | join(', ') }} from {{ relation }})
        on {{ columns | join(', ') }}
        into name {{ name_column }} value {{ value_column }}
    )
{%- endmacro %}
{% macro spark__unpivot_columns(relation, id_columns, columns, name_column, value_column) -%}
    select {{ id_columns | join(', ') }}, {{ name_column }}, {{ value_column }}
    from (select {{ (id_columns + columns) | join(', ') }} from {{ relation }})
    unpivot exclude nulls ({{ value_column }} for {{ name_column }} in ({{ columns | join(', ') }}))
{%- endmacro %}

{#- An order-independent fingerprint of a table's rows: the sum of a 64-bit hash of each row
    (`alias`: the table's alias in the from clause). Compared only with fingerprints taken on
    the same engine. -#}
{% macro rows_fingerprint(alias) -%}
    {{ return(adapter.dispatch('rows_fingerprint', 'de06')(alias)) }}
{%- endmacro %}
{% macro default__rows_fingerprint(alias) -%}
    sum(hash({{ alias }})::hugeint)
{%- endmacro %}
{% macro spark__rows_fingerprint(alias) -%}
    sum(cast(xxhash64({{ alias }}.*) as decimal(38, 0)))
{%- endmacro %}

{#- A 64-bit hash of the values given, as a fingerprint. -#}
{% macro values_fingerprint(values) -%}
    {{ return(adapter.dispatch('values_fingerprint', 'de06')(values)) }}
{%- endmacro %}
{% macro default__values_fingerprint(values) -%}
    hash({{ values | join(', ') }})::hugeint
{%- endmacro %}
{% macro spark__values_fingerprint(values) -%}
    cast(xxhash64({{ values | join(', ') }}) as decimal(38, 0))
{%- endmacro %}


{#- Models stacked by column name: a column a model lacks is null in its rows. `parts`: a list
    of {'model': name, 'columns': {name: SQL} added to its rows, 'where': a filter}. DuckDB has
    `union all by name`; Spark SQL stacks by position, so there every part lists every column,
    in the order DuckDB gives them (first seen first), each model's columns as built. -#}
{% macro union_all_by_name(parts) -%}
    {{ return(adapter.dispatch('union_all_by_name', 'de06')(parts)) }}
{%- endmacro %}

{% macro default__union_all_by_name(parts) -%}
    {%- for part in parts %}
    select
        *{% for name, expression in part.get('columns', {}).items() %},
        {{ expression }} as {{ name }}{% endfor %}
    from {{ ref(part['model']) }}
    {%- if part.get('where') %}
    where {{ part['where'] }}
    {%- endif %}
    {%- if not loop.last %}

    union all by name
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro spark__union_all_by_name(parts) -%}
    {%- set names_of = [] -%}
    {%- set all_names = [] -%}
    {%- for part in parts -%}
        {%- set names = model_columns(ref(part['model']), part['model']) + (part.get('columns', {}).keys() | list) -%}
        {%- do names_of.append(names) -%}
        {%- for name in names if name not in all_names -%}{%- do all_names.append(name) -%}{%- endfor -%}
    {%- endfor -%}
    {%- for part in parts %}
    {%- set outer = loop %}
    {%- set extra = part.get('columns', {}) %}
    select
        {%- for name in all_names %}
        {% if name in extra %}{{ extra[name] }}{% elif name in names_of[outer.index0] %}{{ name }}{% else %}null{% endif %} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref(part['model']) }}
    {%- if part.get('where') %}
    where {{ part['where'] }}
    {%- endif %}
    {%- if not loop.last %}

    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}


{#- A model's columns in order: as built, else (not built yet) as its YAML documents them. A
    built model must have the columns its YAML documents, or the build stops here: the YAML is
    what a model that is not built yet is taken to have. In a unit test (`ref` names a fixture,
    and the graph is not there) the model as built: dbt builds a unit test's fixtures from the
    columns of the built models it reads. -#}
{% macro model_columns(relation, model_name) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {%- for schema in ['intermediate', 'marts'] -%}
            {%- set built = adapter.get_relation(database=target.database, schema=schema, identifier=model_name) -%}
            {%- if built is not none -%}
                {{ return(adapter.get_columns_in_relation(built) | map(attribute='name') | list) }}
            {%- endif -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(model_name ~ ": not built, so its columns are not known to the unit test") }}
    {%- endif -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | selectattr('name', 'equalto', model_name) | list -%}
    {%- set documented = nodes[0].columns.keys() | list -%}
    {%- set built = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if built is not none -%}
        {%- set actual = adapter.get_columns_in_relation(built) | map(attribute='name') | list -%}
        {%- if actual | sort != documented | sort -%}
            {{ exceptions.raise_compiler_error(
                model_name ~ ": the columns its YAML documents " ~ documented | sort
                ~ " are not the columns of " ~ built ~ " " ~ actual | sort) }}
        {%- endif -%}
        {{ return(actual) }}
    {%- endif -%}
    {{ return(documented) }}
{%- endmacro %}
