{#-
    dbt's data tests in proportion to what changed (issue 34): the tests of the dossier models,
    whose rows grow with every dossier ever received, check the dossiers with a version loaded
    since the newest load the test last passed on, not every dossier again.

    - A model says how (`meta.test_scope` in its YAML: the dossier's key columns, the column
      holding the load id of its rows, the columns of its months; without a key, its tests are
      about each row alone and check the rows of new loads); a singular test (tag
      `dossier_scope`) filters itself with `dossiers_changed_since_tested` or
      `dossier_months_changed_since_tested`.
    - A generic test on such a model reads `get_where_subquery(model)`: here, the model's rows
      of the dossiers (every row of them, not only the new one: a duplicate of a new row is an
      old row) with a row loaded after the test's mark, or received in the months the run
      recomputes (a Dagster partition or backfill rewrites them with their old load ids).
    - Each test has its mark (`dossier_test_marks`, beside the change log): in `on-run-end`,
      each scoped test that passed in the invocation moves its mark to the newest load; one that
      failed keeps its loads in scope until it passes. The mark keeps the hash of the test's
      code and of the models it reads: after a change to them, every row again.
    - Every row is tested when the test has no mark yet, on `--full-refresh` and on Spark (no
      mark table there).

    Why it holds: a row, once loaded, does not change (a later version is a new row; the ingest
    only marks the versions it replaces, with the new load's id), and the models rewrite a
    dossier's rows only when one of its versions is new, or when asked for a range of months
    (in scope). So a dossier with no version after the mark has the rows that passed then.
-#}

{% macro dossier_test_marks_relation() -%}
    {%- set log = graph.nodes.get('model.de06.int_period_inputs__changes') -%}
    {{ return(api.Relation.create(database=log.database, schema=log.schema, identifier='dossier_test_marks')) }}
{%- endmacro %}


{#- The newest load the current test passed on; none: test every row (no mark, a full
    refresh, Spark, or the test's code changed since). -#}
{% macro dossier_test_mark() -%}
    {%- if not execute or target.type != 'duckdb' or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set marks = dossier_test_marks_relation() -%}
    {%- if adapter.get_relation(database=marks.database, schema=marks.schema, identifier=marks.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query_once(
        'select max(through_load_id), max(code_hash) from ' ~ marks
        ~ " where test_id = '" ~ model.unique_id ~ "'") -%}
    {%- set row = found.rows[0] -%}
    {%- if row[0] is none or row[1] != dossier_test_code_hash(model) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(row[0] | int) }}
{%- endmacro %}


{#- The code a test runs: its own and that of the models it reads. -#}
{% macro dossier_test_code_hash(test) -%}
    {%- set code = [test.unique_id, test.raw_code] -%}
    {%- for parent_id in test.depends_on.nodes | sort -%}
        {%- set parent = graph.nodes.get(parent_id) -%}
        {%- if parent is not none -%}
            {%- do code.append(parent.raw_code) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(code | join('\n'))) }}
{%- endmacro %}


{#- A condition on `relation`'s rows: those of the dossiers (`key`) with a row whose
    `load_columns` hold a load after the mark, or received (`received_columns`) in the months
    the run recomputes; none when every row is to be tested. -#}
{% macro dossiers_changed_since_tested(relation, key, load_columns, received_columns) -%}
    {%- set mark = dossier_test_mark() -%}
    {%- if mark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set changed = [] -%}
    {%- for column in load_columns -%}
        {%- do changed.append(column ~ ' > ' ~ mark) -%}
    {%- endfor -%}
    {%- if dossier_month_range() is not none -%}
        {%- for column in received_columns -%}
            {%- do changed.append(in_dossier_month_range(column)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('(' ~ key | join(', ') ~ ') in (select ' ~ key | join(', ') ~ ' from ' ~ relation
              ~ ' where ' ~ changed | join(' or ') ~ ')') }}
{%- endmacro %}


{#- A condition on the rows of a model whose tests are about each row alone (not null,
    accepted values; `meta.test_scope` without a key): those of a load after the mark. A raw
    row, once loaded, does not change, and a staging view over raw shows it the same; none
    when every row is to be tested. -#}
{% macro rows_loaded_since_tested(load_column) -%}
    {%- set mark = dossier_test_mark() -%}
    {{ return(none if mark is none else load_column ~ ' > ' ~ mark) }}
{%- endmacro %}


{#- A condition on a month column: the months from the earliest that a dossier changed since
    the mark was received in (its current or an older version), or that the run recomputes;
    none: every month. -#}
{% macro dossier_months_changed_since_tested(versions, month_column) -%}
    {%- set mark = dossier_test_mark() -%}
    {%- if mark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set bounds = dossier_month_range() -%}
    {%- set earliest -%}
        select min(date_trunc('month', received_at)) from {{ versions }}
        where load_id > {{ mark }} or superseded_by_load_id > {{ mark }}
        {%- if bounds %}
        union all select date '{{ bounds[0] }}'
        {%- endif %}
    {%- endset -%}
    {{ return(month_column ~ ' >= (select min(m) from (' ~ earliest ~ ') as t (m))') }}
{%- endmacro %}


{#- dbt's own macro, which every generic test reads its model through (its `where` config),
    with the scope of a model that declares `meta.test_scope` added. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- set scope = tested.config.meta.get('test_scope') if tested is not none else none -%}
    {%- if scope -%}
        {%- if scope.get('key') -%}
            {%- set changed = dossiers_changed_since_tested(
                relation, scope['key'], [scope['load_column']], scope['received_columns']) -%}
        {%- else -%}
            {%- set changed = rows_loaded_since_tested(scope['load_column']) -%}
        {%- endif -%}
        {%- if changed is not none -%}
            {%- do conditions.append(changed) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#- Whether a test is scoped: a test of a model with `meta.test_scope`, or tagged
    `dossier_scope`. -#}
{% macro is_dossier_scoped_test(node) -%}
    {%- set tested = graph.nodes.get(node.attached_node) if node.attached_node else none -%}
    {{ return('dossier_scope' in node.tags or (tested is not none and tested.config.meta.get('test_scope', false))) }}
{%- endmacro %}


{#- on-run-end: each scoped test that passed moves its mark to the newest load. -#}
{% macro record_dossier_test_marks(results) -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- for result in results if result.node.resource_type == 'test' -%}
        {%- set node = graph.nodes.get(result.node.unique_id) -%}
        {%- if node is not none and (result.status | string) in ['pass', 'warn'] and is_dossier_scoped_test(node) -%}
            {%- do passed.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not passed -%}
        {{ return('') }}
    {%- endif -%}
    {%- set marks = dossier_test_marks_relation() -%}
    create table if not exists {{ marks }} (
        test_id varchar primary key,
        through_load_id bigint not null,
        code_hash varchar not null,
        invocation_id varchar not null,
        recorded_at timestamp not null
    );
    insert or replace into {{ marks }}
    select test_id, newest, code_hash, '{{ invocation_id }}', now()
    from (values
        {%- for node in passed %}
        ('{{ node.unique_id }}', '{{ dossier_test_code_hash(node) }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as t (test_id, code_hash)
    cross join (select coalesce(max(load_id), 0) as newest from raw.load_files)
{%- endmacro %}
