using System.Text.Json;

namespace LlmSimulator.Protocol;

/// <summary>OpenAI embeddings body: one deterministic unit vector per input, seeded by the input text.</summary>
internal static class Embeddings
{
    public const int DefaultDimensions = 16;

    public static void WriteBody(Utf8JsonWriter json, string model, List<ulong> seeds, int dimensions, int promptTokens)
    {
        Span<float> vector = dimensions <= 4096 ? stackalloc float[dimensions] : new float[dimensions];
        json.WriteStartObject();
        json.WriteString("object"u8, "list"u8);
        json.WriteStartArray("data"u8);
        for (var i = 0; i < seeds.Count; i++)
        {
            Fill(vector, seeds[i]);
            json.WriteStartObject();
            json.WriteString("object"u8, "embedding"u8);
            json.WriteNumber("index"u8, i);
            json.WriteStartArray("embedding"u8);
            foreach (var value in vector)
            {
                json.WriteNumberValue(value);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model"u8, model);
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, promptTokens);
        json.WriteNumber("total_tokens"u8, promptTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>xorshift64* from the input's hash, normalised so cosine similarity behaves like real embeddings.</summary>
    private static void Fill(Span<float> vector, ulong seed)
    {
        var state = seed | 1;
        double sumOfSquares = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            var next = state * 2685821657736338717UL;
            var value = (float)(((next >> 40) / (double)(1UL << 24) * 2.0) - 1.0);
            vector[i] = value;
            sumOfSquares += value * value;
        }

        var norm = (float)Math.Sqrt(sumOfSquares);
        if (norm > 0)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] /= norm;
            }
        }
    }
}
