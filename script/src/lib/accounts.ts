import { type Hex, toHex } from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";

/** anvil's default mnemonic: its dev accounts are public knowledge and hold only worthless local ether. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

export interface DevAccount {
  index: number;
  role: string;
  address: HDAccount["address"];
  privateKey: Hex;
  account: HDAccount;
}

/** anvil dev account `index` (m/44'/60'/0'/0/index of the default mnemonic). */
export function devAccount(index: number, role = `account ${index}`): DevAccount {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error(`no private key for dev account ${index}`);
  return { index, role, address: account.address, privateKey: toHex(key), account };
}

/** The roles the local stack gives anvil's dev accounts. */
export function localRoles() {
  return {
    deployer: devAccount(0, "deployer, owner, treasury, arbiter"),
    lender: devAccount(1, "demo lender"),
    agent: devAccount(2, "demo host agent (oracle key)"),
    borrower: devAccount(3, "borrower (free for the dApp)"),
  };
}
