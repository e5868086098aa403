using System.Text;

namespace Drydock.SupplyChain.Tests;

/// <summary>Writes pickles opcode by opcode, as an attacker (or torch.save) would.</summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = [];

    public PickleBuilder Proto(int version) => Op(0x80, (byte)version);

    public PickleBuilder Op(params byte[] bytes) { _bytes.AddRange(bytes); return this; }

    public PickleBuilder Op(char opcode) => Op((byte)opcode);

    public PickleBuilder Line(string text) { _bytes.AddRange(Encoding.UTF8.GetBytes(text + "\n")); return this; }

    public PickleBuilder Global(string module, string name) => Op('c').Line(module).Line(name);

    public PickleBuilder Inst(string module, string name) => Op('i').Line(module).Line(name);

    public PickleBuilder ShortUnicode(string s) { var b = Encoding.UTF8.GetBytes(s); return Op(0x8c, (byte)b.Length).Op(b); }

    public PickleBuilder BinUnicode(string s) { var b = Encoding.UTF8.GetBytes(s); return Op((byte)'X').Op(BitConverter.GetBytes(b.Length)).Op(b); }

    public PickleBuilder String0(string s) => Op('S').Line($"'{s}'");

    public PickleBuilder StackGlobal() => Op(0x93);

    public PickleBuilder Memoize() => Op(0x94);

    public PickleBuilder BinPut(byte index) => Op((byte)'q', index);

    public PickleBuilder BinGet(byte index) => Op((byte)'h', index);

    public PickleBuilder Mark() => Op('(');

    public PickleBuilder Tuple() => Op('t');

    public PickleBuilder Tuple1() => Op(0x85);

    public PickleBuilder EmptyTuple() => Op(')');

    public PickleBuilder EmptyDict() => Op('}');

    public PickleBuilder Reduce() => Op('R');

    public PickleBuilder Build() => Op('b');

    public PickleBuilder Int(int value) => Op((byte)'J').Op(BitConverter.GetBytes(value));

    public PickleBuilder Stop() => Op('.');

    public byte[] Bytes => [.. _bytes];
}
