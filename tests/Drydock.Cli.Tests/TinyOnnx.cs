using System.Text;

namespace Drydock.Cli.Tests;

/// <summary>
/// The smallest model <c>drydock serve-model</c> loads, written as ONNX protobuf bytes (no Python needed):
/// <c>input_ids</c> int64 [batch, sequence] → <c>logits</c> float32 [batch, sequence, 256], every logit 0 (a uniform
/// byte model), with the model.json the reference trainer writes beside it.
/// </summary>
internal static class TinyOnnx
{
    public static void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var cast = Node(["input_ids"], ["ids"], "Cast", Field(5, Concat(Text(1, "to"), Varint(3, 1), Varint(20, 2)))); // to=FLOAT
        var unsqueeze = Node(["ids", "axes"], ["column"], "Unsqueeze");
        var mul = Node(["column", "zeros"], ["logits"], "Mul");
        var axes = Field(5, Concat(Varint(1, 1), Varint(2, 7), Text(8, "axes"), Field(9, BitConverter.GetBytes(2L)))); // int64 [1] = {2}
        var zeros = Field(5, Concat(Varint(1, 256), Varint(2, 1), Text(8, "zeros"), Field(9, new byte[256 * 4]))); // float [256]
        var graph = Concat(cast, unsqueeze, mul, Text(2, "tiny"), axes, zeros,
            Field(11, ValueInfo("input_ids", 7, Dim("batch"), Dim("sequence"))),
            Field(12, ValueInfo("logits", 1, Dim("batch"), Dim("sequence"), Field(1, Varint(1, 256)))));
        var model = Concat(Varint(1, 8), Field(8, Concat(Text(1, ""), Varint(2, 13))), Field(7, graph));
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), model);
        File.WriteAllText(Path.Combine(folder, "model.json"), """{"context": 64, "bos": 2, "eos": 3}""");
    }

    private static byte[] Node(string[] inputs, string[] outputs, string op, params byte[][] attributes) =>
        Field(1, Concat([.. inputs.Select(i => Text(1, i)), .. outputs.Select(o => Text(2, o)), Text(4, op), .. attributes]));

    // A tensor value: elem_type and a shape of the given dimensions.
    private static byte[] ValueInfo(string name, int type, params byte[][] dims) =>
        Concat(Text(1, name), Field(2, Field(1, Concat(Varint(1, type), Field(2, Concat(dims))))));

    private static byte[] Dim(string parameter) => Field(1, Text(2, parameter));

    private static byte[] Text(int field, string value) => Field(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Field(int field, byte[] value) => Concat(Raw((ulong)(field << 3 | 2)), Raw((ulong)value.Length), value);

    private static byte[] Varint(int field, long value) => Concat(Raw((ulong)(field << 3)), Raw((ulong)value));

    private static byte[] Raw(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
