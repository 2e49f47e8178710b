-- version: 20251228163703
-- name: install_rails_pulse_tables
-- kind: schema
-- release: 0.37.0
-- removed-in: 1.7.2
-- transaction: true
-- changes-data: false
-- note: Translated from the 1.7.1 copy (the file is gone from 1.7.2 on; 20260429180000 drops these tables). The Ruby loads db/rails_pulse_schema.rb (same tables at 0.37.0-1.7.1), which does nothing when all five rails_pulse_* tables exist and otherwise creates them all (failing if only some exist); the DO block keeps that guard.
-- note: normalized_sql's index length (191) is ignored by PostgreSQL, as in Rails; occurred_at is t.timestamp (no precision), not t.datetime.
DO $$
BEGIN
  IF to_regclass('rails_pulse_routes') IS NOT NULL
     AND to_regclass('rails_pulse_queries') IS NOT NULL
     AND to_regclass('rails_pulse_requests') IS NOT NULL
     AND to_regclass('rails_pulse_operations') IS NOT NULL
     AND to_regclass('rails_pulse_summaries') IS NOT NULL THEN
    RETURN;
  END IF;

  CREATE TABLE rails_pulse_routes (
    id bigserial PRIMARY KEY,
    method character varying NOT NULL,
    path character varying NOT NULL,
    tags text,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
  );
  COMMENT ON COLUMN rails_pulse_routes.method IS 'HTTP method (e.g., GET, POST)';
  COMMENT ON COLUMN rails_pulse_routes.path IS 'Request path (e.g., /posts/index)';
  COMMENT ON COLUMN rails_pulse_routes.tags IS 'JSON array of tags for filtering and categorization';
  CREATE UNIQUE INDEX index_rails_pulse_routes_on_method_and_path ON rails_pulse_routes (method, path);

  CREATE TABLE rails_pulse_queries (
    id bigserial PRIMARY KEY,
    normalized_sql character varying(1000) NOT NULL,
    analyzed_at timestamp(6) without time zone,
    explain_plan text,
    issues text,
    metadata text,
    query_stats text,
    backtrace_analysis text,
    index_recommendations text,
    n_plus_one_analysis text,
    suggestions text,
    tags text,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
  );
  COMMENT ON COLUMN rails_pulse_queries.normalized_sql IS 'Normalized SQL query string (e.g., SELECT * FROM users WHERE id = ?)';
  COMMENT ON COLUMN rails_pulse_queries.analyzed_at IS 'When query analysis was last performed';
  COMMENT ON COLUMN rails_pulse_queries.explain_plan IS 'EXPLAIN output from actual SQL execution';
  COMMENT ON COLUMN rails_pulse_queries.issues IS 'JSON array of detected performance issues';
  COMMENT ON COLUMN rails_pulse_queries.metadata IS 'JSON object containing query complexity metrics';
  COMMENT ON COLUMN rails_pulse_queries.query_stats IS 'JSON object with query characteristics analysis';
  COMMENT ON COLUMN rails_pulse_queries.backtrace_analysis IS 'JSON object with call chain and N+1 detection';
  COMMENT ON COLUMN rails_pulse_queries.index_recommendations IS 'JSON array of database index recommendations';
  COMMENT ON COLUMN rails_pulse_queries.n_plus_one_analysis IS 'JSON object with enhanced N+1 query detection results';
  COMMENT ON COLUMN rails_pulse_queries.suggestions IS 'JSON array of optimization recommendations';
  COMMENT ON COLUMN rails_pulse_queries.tags IS 'JSON array of tags for filtering and categorization';
  CREATE UNIQUE INDEX index_rails_pulse_queries_on_normalized_sql ON rails_pulse_queries (normalized_sql);

  CREATE TABLE rails_pulse_requests (
    id bigserial PRIMARY KEY,
    route_id bigint NOT NULL,
    duration numeric(15,6) NOT NULL,
    status integer NOT NULL,
    is_error boolean DEFAULT false NOT NULL,
    request_uuid character varying NOT NULL,
    controller_action character varying,
    occurred_at timestamp without time zone NOT NULL,
    tags text,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    CONSTRAINT fk_rails_7fe8602542 FOREIGN KEY (route_id) REFERENCES rails_pulse_routes (id)
  );
  CREATE INDEX index_rails_pulse_requests_on_route_id ON rails_pulse_requests (route_id);
  COMMENT ON COLUMN rails_pulse_requests.route_id IS 'Link to the route';
  COMMENT ON COLUMN rails_pulse_requests.duration IS 'Total request duration in milliseconds';
  COMMENT ON COLUMN rails_pulse_requests.status IS 'HTTP status code (e.g., 200, 500)';
  COMMENT ON COLUMN rails_pulse_requests.is_error IS 'True if status >= 500';
  COMMENT ON COLUMN rails_pulse_requests.request_uuid IS 'Unique identifier for the request (e.g., UUID)';
  COMMENT ON COLUMN rails_pulse_requests.controller_action IS 'Controller and action handling the request (e.g., PostsController#show)';
  COMMENT ON COLUMN rails_pulse_requests.occurred_at IS 'When the request started';
  COMMENT ON COLUMN rails_pulse_requests.tags IS 'JSON array of tags for filtering and categorization';
  CREATE INDEX index_rails_pulse_requests_on_occurred_at ON rails_pulse_requests (occurred_at);
  CREATE UNIQUE INDEX index_rails_pulse_requests_on_request_uuid ON rails_pulse_requests (request_uuid);
  CREATE INDEX index_rails_pulse_requests_on_route_id_and_occurred_at ON rails_pulse_requests (route_id, occurred_at);

  CREATE TABLE rails_pulse_operations (
    id bigserial PRIMARY KEY,
    request_id bigint NOT NULL,
    query_id bigint,
    operation_type character varying NOT NULL,
    label character varying NOT NULL,
    duration numeric(15,6) NOT NULL,
    codebase_location character varying,
    start_time double precision DEFAULT 0.0 NOT NULL,
    occurred_at timestamp without time zone NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    CONSTRAINT fk_rails_6eba1e2cb6 FOREIGN KEY (request_id) REFERENCES rails_pulse_requests (id),
    CONSTRAINT fk_rails_0b0064cad4 FOREIGN KEY (query_id) REFERENCES rails_pulse_queries (id)
  );
  CREATE INDEX index_rails_pulse_operations_on_request_id ON rails_pulse_operations (request_id);
  CREATE INDEX index_rails_pulse_operations_on_query_id ON rails_pulse_operations (query_id);
  COMMENT ON COLUMN rails_pulse_operations.request_id IS 'Link to the request';
  COMMENT ON COLUMN rails_pulse_operations.query_id IS 'Link to the normalized SQL query';
  COMMENT ON COLUMN rails_pulse_operations.operation_type IS 'Type of operation (e.g., database, view, gem_call)';
  COMMENT ON COLUMN rails_pulse_operations.label IS 'Descriptive name (e.g., SELECT FROM users WHERE id = 1, render layout)';
  COMMENT ON COLUMN rails_pulse_operations.duration IS 'Operation duration in milliseconds';
  COMMENT ON COLUMN rails_pulse_operations.codebase_location IS 'File and line number (e.g., app/models/user.rb:25)';
  COMMENT ON COLUMN rails_pulse_operations.start_time IS 'Operation start time in milliseconds';
  COMMENT ON COLUMN rails_pulse_operations.occurred_at IS 'When the request started';
  CREATE INDEX index_rails_pulse_operations_on_operation_type ON rails_pulse_operations (operation_type);
  CREATE INDEX index_rails_pulse_operations_on_occurred_at ON rails_pulse_operations (occurred_at);
  CREATE INDEX index_rails_pulse_operations_on_query_and_time ON rails_pulse_operations (query_id, occurred_at);
  CREATE INDEX index_rails_pulse_operations_query_performance ON rails_pulse_operations (query_id, duration, occurred_at);
  CREATE INDEX index_rails_pulse_operations_on_time_duration_type ON rails_pulse_operations (occurred_at, duration, operation_type);

  CREATE TABLE rails_pulse_summaries (
    id bigserial PRIMARY KEY,
    period_start timestamp(6) without time zone NOT NULL,
    period_end timestamp(6) without time zone NOT NULL,
    period_type character varying NOT NULL,
    summarizable_type character varying NOT NULL,
    summarizable_id bigint NOT NULL,
    count integer DEFAULT 0 NOT NULL,
    avg_duration double precision,
    min_duration double precision,
    max_duration double precision,
    p50_duration double precision,
    p95_duration double precision,
    p99_duration double precision,
    total_duration double precision,
    stddev_duration double precision,
    error_count integer DEFAULT 0,
    success_count integer DEFAULT 0,
    status_2xx integer DEFAULT 0,
    status_3xx integer DEFAULT 0,
    status_4xx integer DEFAULT 0,
    status_5xx integer DEFAULT 0,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
  );
  CREATE INDEX index_rails_pulse_summaries_on_summarizable ON rails_pulse_summaries (summarizable_type, summarizable_id);
  COMMENT ON COLUMN rails_pulse_summaries.period_start IS 'Start of the aggregation period';
  COMMENT ON COLUMN rails_pulse_summaries.period_end IS 'End of the aggregation period';
  COMMENT ON COLUMN rails_pulse_summaries.period_type IS 'Aggregation period type: hour, day, week, month';
  COMMENT ON COLUMN rails_pulse_summaries.summarizable_id IS 'Link to Route or Query';
  COMMENT ON COLUMN rails_pulse_summaries.count IS 'Total number of requests/operations';
  COMMENT ON COLUMN rails_pulse_summaries.avg_duration IS 'Average duration in milliseconds';
  COMMENT ON COLUMN rails_pulse_summaries.min_duration IS 'Minimum duration in milliseconds';
  COMMENT ON COLUMN rails_pulse_summaries.max_duration IS 'Maximum duration in milliseconds';
  COMMENT ON COLUMN rails_pulse_summaries.p50_duration IS '50th percentile duration';
  COMMENT ON COLUMN rails_pulse_summaries.p95_duration IS '95th percentile duration';
  COMMENT ON COLUMN rails_pulse_summaries.p99_duration IS '99th percentile duration';
  COMMENT ON COLUMN rails_pulse_summaries.total_duration IS 'Total duration in milliseconds';
  COMMENT ON COLUMN rails_pulse_summaries.stddev_duration IS 'Standard deviation of duration';
  COMMENT ON COLUMN rails_pulse_summaries.error_count IS 'Number of error responses (5xx)';
  COMMENT ON COLUMN rails_pulse_summaries.success_count IS 'Number of successful responses';
  COMMENT ON COLUMN rails_pulse_summaries.status_2xx IS 'Number of 2xx responses';
  COMMENT ON COLUMN rails_pulse_summaries.status_3xx IS 'Number of 3xx responses';
  COMMENT ON COLUMN rails_pulse_summaries.status_4xx IS 'Number of 4xx responses';
  COMMENT ON COLUMN rails_pulse_summaries.status_5xx IS 'Number of 5xx responses';
  CREATE UNIQUE INDEX idx_pulse_summaries_unique ON rails_pulse_summaries (summarizable_type, summarizable_id, period_type, period_start);
  CREATE INDEX index_rails_pulse_summaries_on_period ON rails_pulse_summaries (period_type, period_start);
  CREATE INDEX index_rails_pulse_summaries_on_created_at ON rails_pulse_summaries (created_at);

  CREATE INDEX idx_requests_for_aggregation ON rails_pulse_requests (created_at, route_id);
  CREATE INDEX idx_requests_created_at ON rails_pulse_requests (created_at);
  CREATE INDEX idx_operations_for_aggregation ON rails_pulse_operations (created_at, query_id);
  CREATE INDEX idx_operations_created_at ON rails_pulse_operations (created_at);
END
$$;
