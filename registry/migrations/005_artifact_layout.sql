-- A version's artifact is either one file (artifact_uri is the file) or a directory, such as a
-- Hugging Face model folder (artifact_uri is its manifest.json listing every file with its sha256;
-- the files live under files/ beside it; sha256 is the manifest's, size the sum of the files').
ALTER TABLE model_versions
  ADD COLUMN artifact_layout text NOT NULL DEFAULT 'file' CHECK (artifact_layout IN ('file', 'directory'));
