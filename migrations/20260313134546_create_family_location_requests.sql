-- version: 20260313134546
-- name: create_family_location_requests
-- kind: schema
-- release: 1.3.4
-- transaction: true
-- changes-data: false
CREATE TABLE family_location_requests (
  id bigserial PRIMARY KEY,
  requester_id bigint NOT NULL,
  target_user_id bigint NOT NULL,
  family_id bigint NOT NULL,
  status integer DEFAULT 0 NOT NULL,
  suggested_duration character varying DEFAULT '24h' NOT NULL,
  expires_at timestamp(6) without time zone NOT NULL,
  responded_at timestamp(6) without time zone,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX idx_family_loc_requests_requester_target_status ON family_location_requests (requester_id, target_user_id, status);
CREATE INDEX idx_family_loc_requests_target_status ON family_location_requests (target_user_id, status);
CREATE INDEX idx_family_loc_requests_expires_status ON family_location_requests (expires_at, status);
CREATE INDEX index_family_location_requests_on_family_id ON family_location_requests (family_id);
ALTER TABLE family_location_requests ADD CONSTRAINT fk_rails_f607841cdd FOREIGN KEY (requester_id) REFERENCES users (id);
ALTER TABLE family_location_requests ADD CONSTRAINT fk_rails_d78ba34bd1 FOREIGN KEY (target_user_id) REFERENCES users (id);
ALTER TABLE family_location_requests ADD CONSTRAINT fk_rails_a52bcdbc28 FOREIGN KEY (family_id) REFERENCES families (id);
