{#-
    dbt's data tests in proportion to what changed (issue 34): the tests of the dossier models,
    whose rows grow with every dossier ever received, check the dossiers with a version loaded
    since the newest load those tests last passed on, not every dossier again.

    - A model says how (`meta.test_scope` in its YAML: the dossier's key columns, and the column
      holding the load id of its rows); a singular test filters itself with
      `dossiers_changed_since_tested`.
    - A generic test on such a model reads `get_where_subquery(model)`: here, the model's rows
      of the dossiers (every row of them, not only the new one: a duplicate of a new row is an
      old row) that have a row loaded after the mark.
    - The mark (`dossier_test_marks`, beside the change log) moves, in `on-run-end`, to the
      newest load, only when every scoped test of the project ran in the invocation and none
      failed or errored: a failed test keeps its loads in scope until it passes.
    - Every row is tested when there is no mark yet, on `--full-refresh`, when a run recomputes
      a range of months (a Dagster partition or backfill: rows rewritten with old load ids), and
      on Spark (no mark table there).

    Why it holds: a row, once loaded, does not change (a later version is a new row; the ingest
    only marks the versions it replaces), and the models rewrite a dossier's rows only when one
    of its versions is new, or when asked for a range of months (tested whole). So a dossier
    with no version after the mark has the rows that passed then.
-#}

{% macro dossier_test_marks_relation() -%}
    {%- set log = graph.nodes.get('model.de06.int_period_inputs__changes') -%}
    {{ return(api.Relation.create(database=log.database, schema=log.schema, identifier='dossier_test_marks')) }}
{%- endmacro %}


{#- The newest load the scoped tests passed on; none: test every row (also when the code of
    the scoped tests or of the models they read changed since). -#}
{% macro dossier_test_mark() -%}
    {%- if not execute or target.type != 'duckdb' or flags.FULL_REFRESH or dossier_month_range() is not none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set marks = dossier_test_marks_relation() -%}
    {%- if adapter.get_relation(database=marks.database, schema=marks.schema, identifier=marks.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query_once('select max(through_load_id), max(code_hash) from ' ~ marks) -%}
    {%- set row = found.rows[0] -%}
    {%- if row[0] is none or row[1] != dossier_test_code_hash() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(row[0] | int) }}
{%- endmacro %}


{#- The code the scoped tests run: theirs and that of the models they read. -#}
{% macro dossier_test_code_hash() -%}
    {%- set code = [] -%}
    {%- for test_id in dossier_scoped_tests() | sort -%}
        {%- set test = graph.nodes[test_id] -%}
        {%- do code.append(test.unique_id ~ '\n' ~ test.raw_code) -%}
        {%- for parent_id in test.depends_on.nodes | sort -%}
            {%- set parent = graph.nodes.get(parent_id) -%}
            {%- if parent is not none -%}
                {%- do code.append(parent.raw_code) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(local_md5(code | join('\n'))) }}
{%- endmacro %}


{#- A condition on a month column: the months from the earliest a dossier changed since the
    mark was received in (its current or an older version), on; none: every month. -#}
{% macro dossier_months_changed_since_tested(versions, month_column) -%}
    {%- set mark = dossier_test_mark() -%}
    {%- if mark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(month_column ~ " >= (select min(date_trunc('month', received_at)) from " ~ versions
              ~ ' where load_id > ' ~ mark ~ ' or superseded_by_load_id > ' ~ mark ~ ')') }}
{%- endmacro %}


{#- A condition on `relation`'s rows: those of the dossiers (`key`) with a row whose
    `load_columns` hold a load after the mark; none when every row is to be tested. -#}
{% macro dossiers_changed_since_tested(relation, key, load_columns) -%}
    {%- set mark = dossier_test_mark() -%}
    {%- if mark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newer = [] -%}
    {%- for column in load_columns -%}
        {%- do newer.append(column ~ ' > ' ~ mark) -%}
    {%- endfor -%}
    {{ return('(' ~ key | join(', ') ~ ') in (select ' ~ key | join(', ') ~ ' from ' ~ relation
              ~ ' where ' ~ newer | join(' or ') ~ ')') }}
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
        {%- set changed = dossiers_changed_since_tested(relation, scope['key'], [scope['load_column']]) -%}
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


{#- The tests scoped by `dossier_test_mark`: those of a model with `meta.test_scope`, and the
    singular tests tagged `dossier_scope`. -#}
{% macro dossier_scoped_tests() -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- set tested = graph.nodes.get(node.attached_node) if node.attached_node else none -%}
        {%- if 'dossier_scope' in node.tags or (tested is not none and tested.config.meta.get('test_scope')) -%}
            {%- do found.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}


{#- on-run-end: move the mark to the newest load when every scoped test ran and passed. -#}
{% macro record_dossier_test_mark(results) -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statuses = {} -%}
    {%- for result in results -%}
        {%- do statuses.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}
    {%- set scoped = dossier_scoped_tests() -%}
    {%- for test in scoped -%}
        {%- if statuses.get(test) not in ['pass', 'warn'] -%}
            {{ return('') }}
        {%- endif -%}
    {%- endfor -%}
    {%- if not scoped -%}
        {{ return('') }}
    {%- endif -%}
    {%- set marks = dossier_test_marks_relation() -%}
    create table if not exists {{ marks }} (
        through_load_id bigint not null,
        code_hash varchar not null,
        invocation_id varchar not null,
        recorded_at timestamp not null
    );
    delete from {{ marks }};
    insert into {{ marks }}
    select coalesce(max(load_id), 0), '{{ dossier_test_code_hash() }}', '{{ invocation_id }}', now()
    from raw.load_files
{%- endmacro %}
