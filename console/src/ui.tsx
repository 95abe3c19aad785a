import type { ReactNode } from 'react';
import { ApiError } from './api';

export function Loading({ error, what }: { error: Error | null; what: string }) {
  if (error !== null) {
    return (
      <p role="alert" className="error">
        Could not load {what}: {error.message}
        {error instanceof ApiError && error.status === 403 ? ' (this key may not read it)' : ''}
      </p>
    );
  }
  return <p aria-busy="true">Loading {what}…</p>;
}

export function ErrorLine({ error }: { error: string | null }) {
  return error === null ? null : (
    <p role="alert" className="error">
      {error}
    </p>
  );
}

export function time(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  return new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e6 || Math.abs(v) < 0.001 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function json(v: unknown): string {
  return v === null || v === undefined ? '' : JSON.stringify(v);
}
