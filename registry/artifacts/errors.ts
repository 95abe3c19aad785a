/**
 * Errors of the artifact store. Each names the key (and, for checksum failures, both hashes) so the
 * person reading a failed workflow knows which object to look at.
 */

/** A key that the stores refuse (absolute, `..`, empty segment, backslash, control character, …). */
export class InvalidArtifactKeyError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(
      `invalid artifact key ${JSON.stringify(key)}: ${reason}; ` +
        `expected a relative '/'-separated path such as "models/ppo/3/model.onnx"`,
    );
    this.name = 'InvalidArtifactKeyError';
  }
}

/** The object does not exist (or was never committed). */
export class ArtifactNotFoundError extends Error {
  constructor(
    readonly key: string,
    readonly location: string,
  ) {
    super(`artifact ${JSON.stringify(key)} not found in ${location}`);
    this.name = 'ArtifactNotFoundError';
  }
}

/** The bytes read do not hash to the sha256 recorded when the object was written (or the one asked for). */
export class ArtifactChecksumError extends Error {
  constructor(
    readonly key: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
    readonly expectedSize: number | undefined,
    readonly actualSize: number,
  ) {
    const sizeNote =
      expectedSize !== undefined && expectedSize !== actualSize
        ? `; read ${actualSize} bytes, expected ${expectedSize}`
        : `; ${actualSize} bytes read`;
    super(
      `artifact ${JSON.stringify(key)} failed its checksum: expected sha256 ${expectedSha256}, ` +
        `got ${actualSha256}${sizeNote} (the stored object is corrupt or was changed outside the store)`,
    );
    this.name = 'ArtifactChecksumError';
  }
}
