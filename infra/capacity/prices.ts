/**
 * Hetzner prices as quoted by third parties (spec cluster.md §15). Every figure is second-hand and
 * DATED: Hetzner changed prices on 2026-04-01 and 2026-06-15. Re-check hetzner.com/cloud and bump
 * PRICES_AS_OF before deciding anything with these numbers.
 */
export const PRICES_AS_OF = "2026-04-15";

/** Hours per month used to turn hourly quotes into the monthly cap Hetzner bills at most. */
export const HOURS_PER_MONTH = 730;

export interface ServerType {
  vcpu: number;
  memoryGiB: number;
  eurPerMonth: number;
  /** Who quoted the price, and how it was derived. */
  source: string;
}

const hourly = (eur: number) => Math.round(eur * HOURS_PER_MONTH * 100) / 100;

export const SERVER_TYPES: Record<string, ServerType> = {
  cx22: { vcpu: 2, memoryGiB: 4, eurPerMonth: 3.99, source: "no quote; price of its inferred successor cx23 (docs.vdhome.be 2026-04-15)" },
  cx23: { vcpu: 2, memoryGiB: 4, eurPerMonth: 3.99, source: "docs.vdhome.be, 2026-04-15" },
  cx33: { vcpu: 4, memoryGiB: 8, eurPerMonth: 6.49, source: "docs.vdhome.be, 2026-04-15" },
  cx43: { vcpu: 8, memoryGiB: 16, eurPerMonth: hourly(0.021), source: "docs.cnap.tech €0.021/h (undated)" },
  cx53: { vcpu: 16, memoryGiB: 32, eurPerMonth: hourly(0.036), source: "docs.vdhome.be €0.036/h, 2026-04-15" },
  cpx22: { vcpu: 3, memoryGiB: 4, eurPerMonth: hourly(0.008), source: "docs.cnap.tech €0.008/h (undated)" },
  cpx31: { vcpu: 4, memoryGiB: 8, eurPerMonth: hourly(0.016), source: "no quote; price of its inferred successor cpx32 (docs.cnap.tech €0.016/h)" },
  cpx32: { vcpu: 4, memoryGiB: 8, eurPerMonth: hourly(0.016), source: "docs.cnap.tech €0.016/h (undated)" },
  cax11: { vcpu: 2, memoryGiB: 4, eurPerMonth: hourly(0.004), source: "docs.cnap.tech €0.004/h (undated)" },
  cax21: { vcpu: 4, memoryGiB: 8, eurPerMonth: hourly(0.007), source: "docs.cnap.tech €0.007/h (undated)" },
  cax31: { vcpu: 8, memoryGiB: 16, eurPerMonth: hourly(0.013), source: "docs.cnap.tech €0.013/h (undated)" },
};

/** Volumes: €0.0572 per GB-month in write-ups from 2026-07 on (after the 2026-06-15 change; €0.044 before). */
export const VOLUME_EUR_PER_GB_MONTH = 0.0572;
/** LB11: quotes range €5 to €7.49; €5.49 is the most common. */
export const LB11_EUR_PER_MONTH = 5.49;
