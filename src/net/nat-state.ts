/**
 * What `net nat enable` changed besides its tagged rules, so that `disable`
 * undoes exactly that: whether kvmctl turned ip_forward on, and the gateway
 * address it gave each bridge (per network namespace, see netns-record.ts).
 */
import { currentNetnsRecord, type NetnsRecord } from './netns-record.js';

export interface NatBridgeState {
  subnet: string;
  out?: string;
  /** The gateway address kvmctl added to the bridge ("10.0.0.1/24"); absent when it was there already. */
  addedAddress?: string;
}

export interface NatState {
  /** True when kvmctl turned net.ipv4.ip_forward on (it was off). */
  ipForwardChanged: boolean;
  /**
   * The NAT rules of others when kvmctl turned ip_forward on (natRuleKey). They
   * lived without forwarding; rules that came later may rely on it.
   */
  natRulesBefore: string[];
  bridges: Record<string, NatBridgeState>;
}

export function emptyNatState(): NatState {
  return { ipForwardChanged: false, natRulesBefore: [], bridges: {} };
}

export function currentNatStateStore(dir: string): Promise<NetnsRecord<NatState>> {
  return currentNetnsRecord(dir, 'nat', emptyNatState, (s) => !s.ipForwardChanged && Object.keys(s.bridges).length === 0);
}
